#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One anonymous mapping for a plan's arena and scratch space, aligned to 2 MiB and advised for
/// transparent huge pages (`MADV_HUGEPAGE`; Linux's default THP mode honours only advised regions).
///
/// Kernels read activations with large strides (a 1×1 convolution reads one element per channel plane
/// per step; im2col gathers from every plane): with 4 KiB pages almost every such read misses the
/// TLB. On a 2 MiB page the same reads hit. Measured on the GEMM shapes of ResNet-50 (one thread,
/// AVX-512): 54–69% of the core's FMA peak with 4 KiB pages, 73–77% with huge pages.
/// Where the kernel gives no huge pages the region is plain anonymous memory; pages that are never
/// touched take no memory.
final class LargePageRegion {
    /// The first byte (2 MiB aligned).
    let base: UnsafeMutableRawPointer
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    static let hugePage = 2 << 20

    /// Whether plans use large-page regions: not under AddressSanitizer, whose redzones around each
    /// buffer's own allocation are what catch a kernel writing past its output (one mapping has none).
    static let enabled = dlsym(nil, "__asan_init") == nil

    /// Maps `bytes` (rounded up to whole huge pages); `nil` when the mapping fails.
    init?(bytes: Int) {
        let rounded = (max(bytes, 1) + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        let total = rounded + Self.hugePage
        guard let address = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), address != MAP_FAILED else {
            return nil
        }
        let offset = (Self.hugePage - Int(bitPattern: address) % Self.hugePage) % Self.hugePage
        (mapping, mappedBytes, base) = (address, total, address + offset)
        #if os(Linux)
        _ = madvise(base, rounded, MADV_HUGEPAGE)
        #endif
    }

    deinit { munmap(mapping, mappedBytes) }
}

import Foundation
import VigilIR
import VigilONNX
import VigilOps
import VigilTestSupport
import XCTest

@testable import VigilExecutor

/// The op registry and the kernel registry agree, and every op the executor runs is exercised by a
/// passing ONNX node test (or, for Vigil's own ops, named with the tests that cover them).
final class KernelRegistryTests: XCTestCase {
    func testEveryKernelHasADescriptor() {
        for name in KernelRegistry.opsWithKernels.sorted() {
            let parts = name.components(separatedBy: "::")
            let (domain, opType) = parts.count == 2 ? (parts[0], parts[1]) : ("", name)
            XCTAssertNotNil(OpRegistry.standard.descriptor(domain: domain, opType: opType), "kernel \(name) has no descriptor")
        }
    }

    func testEveryDescriptorHasAKernel() {
        for d in OpRegistry.standard.all {
            let node = Node(opType: d.opType, domain: d.domain, inputs: [], outputs: [])
            XCTAssertNotNil(KernelRegistry.builder(for: node, descriptor: d), "\(d.qualifiedName) has no kernel")
        }
    }

    /// Every descriptor with a kernel is run by a passing node test of the conformance manifest, or is
    /// listed in `ConformanceManifest.coveredElsewhere`.
    func testEveryOpIsCoveredByTheConformanceManifest() throws {
        let nodeTests = ConformanceTests.nodeTests
        guard FileManager.default.fileExists(atPath: nodeTests.path) else {
            throw XCTSkip("ONNX node tests not fetched; run scripts/fetch-onnx-backend-tests.sh")
        }
        var covered = Set(ConformanceManifest.coveredElsewhere.keys)
        for name in ConformanceManifest.passing {
            let model = try ONNXReader.readModel(at: ConformanceTests.folder(name).appendingPathComponent("model.onnx").path)
            for node in model.graph.nodes { covered.insert(Domain.qualified(node.domain, node.opType)) }
        }
        for d in OpRegistry.standard.all {
            XCTAssertTrue(covered.contains(d.qualifiedName), "\(d.qualifiedName) is run by no passing node test of ConformanceManifest")
        }
    }
}

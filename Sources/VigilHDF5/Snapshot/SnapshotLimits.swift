/// The bounds an untrusted HDF5 file is read within. Exceeding one is an error naming the limit,
/// raised before the memory is allocated.
public struct HDF5ReadLimits: Sendable, Equatable {
    /// Most bytes of dataset elements read in all (as float32 or float64).
    public var dataBytes: Int
    /// Most groups and datasets.
    public var objects: Int
    /// Deepest group nesting.
    public var depth: Int
    /// Most attributes on one object.
    public var attributesPerObject: Int
    /// Most bytes of attribute strings in all.
    public var attributeBytes: Int
    /// Most dimensions of a dataset.
    public var rank: Int

    public init(dataBytes: Int, objects: Int = 200_000, depth: Int = 64, attributesPerObject: Int = 10_000,
                attributeBytes: Int = 256 << 20, rank: Int = 32) {
        self.dataBytes = dataBytes
        self.objects = objects
        self.depth = depth
        self.attributesPerObject = attributesPerObject
        self.attributeBytes = attributeBytes
        self.rank = rank
    }

    /// The defaults for a file of `fileSize` bytes: 96 MiB of elements, or 64 times the file's size
    /// when that is more (datasets may be compressed); attribute strings up to 64 MiB or 16 times
    /// the file's size.
    public static func defaults(fileSize: Int) -> HDF5ReadLimits {
        let scaled = fileSize.multipliedReportingOverflow(by: 64)
        let strings = fileSize.multipliedReportingOverflow(by: 16)
        return HDF5ReadLimits(
            dataBytes: max(96 << 20, scaled.overflow ? Int.max / 2 : scaled.partialValue),
            attributeBytes: max(64 << 20, strings.overflow ? Int.max / 2 : strings.partialValue))
    }
}

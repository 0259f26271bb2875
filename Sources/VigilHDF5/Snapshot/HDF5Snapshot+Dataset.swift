extension HDF5Snapshot {
    /// A dataset: its shape and, unless it was left out of the read, its elements.
    public final class Dataset: Object, @unchecked Sendable {
        /// Its dimensions ([] for a scalar).
        public let shape: [Int]
        /// How its elements are kept.
        public let storage: Storage
        /// Where its elements are in the region (`nil`: not read, or not numbers).
        let range: Range<Int>?
        let region: DataRegion

        init(file: String, path: String, attributes: [String: Attribute], shape: [Int], storage: Storage, range: Range<Int>?, region: DataRegion) {
            self.shape = shape
            self.storage = storage
            self.range = range
            self.region = region
            super.init(file: file, path: path, attributes: attributes)
        }

        /// Number of elements.
        public var elementCount: Int { shape.reduce(1, *) }

        /// Whether the stored elements are numbers (integer or floating point).
        public var isNumeric: Bool { storage != .none }

        private func bytes() throws(HDF5Error) -> UnsafeRawBufferPointer {
            guard storage != .none else { throw error(.unsupportedType, "dataset does not hold numbers") }
            guard let range else { throw error(.missing, "the dataset's elements were not read") }
            return UnsafeRawBufferPointer(rebasing: region.bytes[range])
        }

        /// All elements as `Float`, in C order; float32 data is not copied.
        public func readFloatBuffer() throws(HDF5Error) -> FloatBuffer {
            let bytes = try bytes()
            switch storage {
            case .float32:
                let pointer = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Float.self))
                return FloatBuffer(borrowing: pointer, count: bytes.count / 4, owner: region)
            default:
                let doubles = bytes.bindMemory(to: Double.self)
                let buffer = FloatBuffer(count: doubles.count)
                for i in 0..<doubles.count { buffer.pointer[i] = Float(doubles[i]) }
                return buffer
            }
        }

        /// All elements as `Float`, in C order.
        public func readFloats() throws(HDF5Error) -> [Float] { try readFloatBuffer().array }

        /// All elements as `Double`, in C order.
        public func readDoubles() throws(HDF5Error) -> [Double] {
            let bytes = try bytes()
            switch storage {
            case .float64: return Array(bytes.bindMemory(to: Double.self))
            default: return bytes.bindMemory(to: Float.self).map(Double.init)
            }
        }
    }
}

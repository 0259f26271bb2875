import Foundation

/// `Fixtures/onnx/manifest.json`, written by `Fixtures/generate_onnx.py` from onnx's own reading of each model.
public struct FixtureManifest: Decodable {
    public struct Opset: Decodable, Equatable {
        public let domain: String
        public let version: Int64

        public init(domain: String, version: Int64) {
            self.domain = domain
            self.version = version
        }
    }

    /// A dim is a size or a symbol name.
    public enum DimValue: Decodable, Equatable, CustomStringConvertible {
        case size(Int)
        case symbol(String)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let size = try? container.decode(Int.self) { self = .size(size) } else { self = .symbol(try container.decode(String.self)) }
        }

        public var description: String {
            switch self {
            case .size(let size): String(size)
            case .symbol(let name): name
            }
        }
    }

    public struct Value: Decodable {
        public let name: String
        public let dtype: String
        public let shape: [DimValue]?
    }

    public struct Tolerance: Decodable {
        public let atol: Double
        public let rtol: Double
    }

    public struct Entry: Decodable {
        public let name: String
        public let path: String
        public let ir_version: Int64
        public let producer_name: String
        public let opsets: [Opset]
        public let inputs: [Value]
        public let outputs: [Value]
        public let node_count: Int
        public let op_histogram: [String: Int]
        public let parameter_count: Int
        public let parameter_bytes_by_dtype: [String: Int]
        public let initializer_count: Int
        public let external_data_files: [String]
        public let has_reference: Bool
        public let tolerance: Tolerance

        /// The model file.
        public var url: URL { Repository.onnxFixtures.appendingPathComponent(path) }
        /// The ONNX test-data folder with `input_N.pb` / `output_N.pb`.
        public var testDataSet: URL { url.deletingLastPathComponent().appendingPathComponent("test_data_set_0") }
    }

    public let models: [Entry]

    /// Loads the committed manifest.
    public static func load() throws -> FixtureManifest {
        let data = try Data(contentsOf: Repository.onnxFixtures.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(FixtureManifest.self, from: data)
    }
}

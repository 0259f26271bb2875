import Foundation
import VigilCodegen
import VigilIR
import XCTest

/// The generated package's files for the awkward-names fixture: declarations use the sanitized
/// names, string literals and doc comments keep the model's names intact.
final class PackageGeneratorTests: XCTestCase {
    func generator(dependency: VigilDependency = .path("/opt/vigil")) throws -> PackageGenerator {
        PackageGenerator(
            spec: PackageSpec(name: "Awkward", modelFileName: "model.onnx", source: "model.onnx", dependency: dependency, generator: "vigil 0.1.0"),
            model: try awkwardModel())
    }

    func file(_ path: String, _ generator: PackageGenerator) throws -> String {
        try XCTUnwrap(generator.files().first { $0.path == path }?.contents, path)
    }

    func testLayout() throws {
        let generator = try generator()
        XCTAssertEqual(generator.files().map(\.path), [
            "Package.swift", "Sources/Awkward/Awkward.swift", "Sources/Awkward-run/main.swift", "Tests/AwkwardTests/AwkwardTests.swift",
            "README.md", ".gitignore",
        ])
        XCTAssertEqual(generator.modelFolder, "Sources/Awkward/Model")
        XCTAssertEqual(generator.recordedFolder, "Tests/AwkwardTests/Recorded")
    }

    func testManifest() throws {
        let manifest = try file("Package.swift", generator())
        XCTAssertTrue(manifest.contains(#".package(name: "Vigil", path: "/opt/vigil")"#), manifest)
        XCTAssertTrue(manifest.contains(#".executable(name: "Awkward-run", targets: ["AwkwardRun"])"#), manifest)
        XCTAssertTrue(manifest.contains(#"resources: [.copy("Model")]"#), manifest)
        XCTAssertTrue(manifest.contains(#"resources: [.copy("Recorded")]"#), manifest)
        let byURL = try file("Package.swift", generator(dependency: .url("https://example.com/vigil.git", from: "0.2.0")))
        XCTAssertTrue(byURL.contains(#".package(url: "https://example.com/vigil.git", from: "0.2.0")"#), byURL)
    }

    func testWrapperDeclarations() throws {
        let source = try file("Sources/Awkward/Awkward.swift", generator())
        for declaration in [
            "public final class Awkward: Sendable {",
            "        public var input1: TypedTensor<Float>",
            "        public var input1_2: TypedTensor<Float>",
            "        public var `class`: TypedTensor<Int64>",
            "        public let `default`: TypedTensor<Float>",
            "        public let selfValue: TypedTensor<Float>",
            "    public static func input1Shape(n_2: Int) -> [Int] { [n_2, 4] }",
            "    public static func input0Shape(batchSize: Int) -> [Int] { [batchSize, 4] }",
            "    public static func nShape() -> [Int] { [] }",
            "        public init(input1: [Float], input0: [Float], images0: [Float], input1_2: [Float], `class`: [Int64], n: [Float], n_2: Int, batchSize: Int) throws(VigilError) {",
            #"        public var modelFeeds: [String: Tensor] { ["input.1": self.input1.tensor, "0": self.input0.tensor, "images:0": self.images0.tensor, "input_1": self.input1_2.tensor, "class": self.`class`.tensor, "n": self.n.tensor] }"#,
            #"            `default` = try Awkward.typedOutput("default", in: outputs)"#,
            #"            outPut = try Awkward.typedOutput("out put", in: outputs)"#,
            "    public init(modelURL: URL, options: Network.Options = .init()) throws(VigilError) {",
            "    public convenience init(options: Network.Options = .init()) throws(VigilError) {",
            #"    public static let modelInputNames: [String] = ["input.1", "0", "images:0", "input_1", "class", "n"]"#,
        ] {
            XCTAssertTrue(source.contains(declaration + "\n"), "missing: \(declaration)")
        }
    }

    /// Doc comments carry the model's documentation line by line, without breaking out of the comment.
    func testDocumentation() throws {
        let source = try file("Sources/Awkward/Awkward.swift", generator())
        XCTAssertTrue(source.contains("/// - Producer: vigil-fixtures 1.0; ONNX IR 10; opsets: ai.onnx 17\n"), source)
        XCTAssertTrue(source.contains("/// - Nodes: 9 (Add ×4, Cast, Mul, ReduceSum, Relu, Sub); parameters: 1\n"), source)
        XCTAssertTrue(source.contains("/// - Inputs: `input.1` float32 [N, 4]; `0` float32 [batch size, 4];"), source)
        XCTAssertTrue(source.contains("        /// The first input: `backticks`, \"quotes\", a backslash \\ and\n        /// a second line.\n"), source)
        XCTAssertTrue(source.contains("/// - `quote`: say \"hi\" \\ bye\n"), source)
        for line in source.split(separator: "\n") where line.contains("backslash") {
            XCTAssertTrue(line.trimmingCharacters(in: .whitespaces).hasPrefix("///"), String(line))
        }
    }

    func testRunnerAndTest() throws {
        let generator = try generator()
        let runner = try file("Sources/Awkward-run/main.swift", generator)
        XCTAssertTrue(runner.contains(#"let inputNames: [(model: String, swift: String)] = [("input.1", "input1"), ("0", "input0"), ("images:0", "images0"), ("input_1", "input1_2"), ("class", "class"), ("n", "n")]"#), runner)
        XCTAssertTrue(runner.contains(#"Awkward.Input(input1: typedInput(feeds, "input.1"), input0: typedInput(feeds, "0"), "#), runner)
        let test = try file("Tests/AwkwardTests/AwkwardTests.swift", generator)
        XCTAssertTrue(test.contains(#"`class`: try recorded(inputs, "class").typed()"#), test)
    }
}

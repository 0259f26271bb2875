import Foundation
import VigilIR
import VigilRuntime
import VigilTestSupport

/// `Fixtures/swift/awkward_names/model.onnx`, read through the runtime.
func awkwardModel() throws -> Model {
    try ModelFile.load(awkwardModelURL)
}

let awkwardModelURL = Repository.fixtures.appendingPathComponent("swift/awkward_names/model.onnx")

import VigilIR

/// Layers that do nothing at inference: Dropout and its variants, GaussianNoise, ActivityRegularization.
enum Regularization {
    static func passThrough(_ call: LayerCall) throws -> [KTensor] { [try call.input] }
}

import VigilIR

/// Errors from fitting, scoring or loading a novelty/anomaly detector. Each names what was wrong.
public enum DetectorError: Error, CustomStringConvertible, Equatable {
    /// The images and the labels have different lengths.
    case lengthMismatch(images: Int, labels: Int)
    /// A class between 0 and the largest label has no training samples.
    case emptyClass(label: Int)
    /// A label is negative.
    case negativeLabel(index: Int, label: Int)
    /// An image set's per-sample shape does not fit the model's input.
    case imageShape(expected: [Int], actual: [Int])
    /// Images must be uint8 or float32.
    case unsupportedImageType(DType)
    /// The network produced a NaN or infinite embedding for a sample.
    case nonFiniteEmbedding(sample: Int)
    /// The detector was fitted on a different model (SHA-256 of the model file differs).
    case modelMismatch(expected: String, actual: String)
    /// The logit scorers were calibrated on a different classifier (SHA-256 of the file differs).
    case classifierMismatch(expected: String, actual: String)
    /// The model does not have the input or output the detector needs.
    case modelInterface(String)
    /// The network failed to run.
    case execution(String)
    /// A scorer needs data the detector does not hold (e.g. kNN without training embeddings).
    case scorerUnavailable(scorer: String, reason: String)
    /// Embeddings of the wrong width for this detector, or an empty input.
    case dimensionMismatch(expected: Int, actual: Int)
    /// An argument is out of range (e.g. TPR outside (0, 1], k larger than the training set).
    case invalidArgument(String)
    /// The detector file is missing data or malformed.
    case invalidFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .lengthMismatch(let images, let labels):
            "data and labels differ in length: \(images) images but \(labels) labels"
        case .emptyClass(let label): "class \(label) has no samples (labels must cover 0…max with every class present)"
        case .negativeLabel(let index, let label): "label \(label) at index \(index) is negative"
        case .imageShape(let expected, let actual):
            "wrong image shape: the model takes samples of shape \(expected), the data has \(actual)"
        case .unsupportedImageType(let dtype): "images must be uint8 or float32, not \(dtype)"
        case .nonFiniteEmbedding(let sample): "the network produced a NaN or infinite embedding for sample \(sample)"
        case .modelMismatch(let expected, let actual):
            "the detector was made for another model (SHA-256 \(expected), this model is \(actual)); override with --allow-model-mismatch (allowMismatch: true) to use it anyway"
        case .classifierMismatch(let expected, let actual):
            "the detector was calibrated with another classifier (SHA-256 \(expected), this classifier is \(actual)); override with --allow-model-mismatch (allowMismatch: true) to use it anyway"
        case .modelInterface(let reason): "model interface: \(reason)"
        case .execution(let reason): "running the network failed: \(reason)"
        case .scorerUnavailable(let scorer, let reason): "scorer \(scorer) is unavailable: \(reason)"
        case .dimensionMismatch(let expected, let actual): "embeddings have width \(actual), the detector expects \(expected)"
        case .invalidArgument(let reason): reason
        case .invalidFile(let path, let reason): "\(path): \(reason)"
        }
    }
}

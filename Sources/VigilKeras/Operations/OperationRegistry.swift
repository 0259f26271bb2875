/// Keras 3 operation class → lowering. Adding an operation is one function in the family's file
/// under `Operations/` plus one line here.
enum OperationRegistry {
    static let lowerings: [String: OperationLowering] = [
        // keras.ops.numpy: arithmetic and comparisons (broadcasting)
        "Add": ArithmeticOps.binary("Add"), "Subtract": ArithmeticOps.binary("Sub"), "Multiply": ArithmeticOps.binary("Mul"),
        "TrueDivide": ArithmeticOps.binary("Div"), "Divide": ArithmeticOps.binary("Div"), "Power": ArithmeticOps.binary("Pow"),
        "Maximum": ArithmeticOps.binary("Max"), "Minimum": ArithmeticOps.binary("Min"),
        "Greater": ArithmeticOps.comparison("Greater"), "Less": ArithmeticOps.comparison("Less"),
        "Equal": ArithmeticOps.comparison("Equal"), "GreaterEqual": ArithmeticOps.comparison("GreaterOrEqual"),
        "LessEqual": ArithmeticOps.comparison("LessOrEqual"),
        "Where": ArithmeticOps.where_, "Clip": ArithmeticOps.clip, "Matmul": ArithmeticOps.matmul,
        // keras.ops.numpy and keras.ops.math: unary
        "Absolute": ArithmeticOps.unary("Abs"), "Abs": ArithmeticOps.unary("Abs"), "Negative": ArithmeticOps.unary("Neg"),
        "Sqrt": ArithmeticOps.unary("Sqrt"), "Exp": ArithmeticOps.unary("Exp"), "Log": ArithmeticOps.unary("Log"),
        "Tanh": ArithmeticOps.unary("Tanh"), "Erf": ArithmeticOps.unary("Erf"), "Sign": ArithmeticOps.unary("Sign"),
        "Floor": ArithmeticOps.unary("Floor"), "Ceil": ArithmeticOps.unary("Ceil"), "Reciprocal": ArithmeticOps.unary("Reciprocal"),
        "Square": ArithmeticOps.square, "Cast": ArithmeticOps.cast,
        // keras.ops.nn: activations
        "Relu": NeuralOps.activation("relu"), "Relu6": NeuralOps.activation("relu6"), "Sigmoid": NeuralOps.activation("sigmoid"),
        "HardSigmoid": NeuralOps.activation("hard_sigmoid"), "HardSilu": NeuralOps.activation("hard_silu"),
        "HardSwish": NeuralOps.activation("hard_silu"), "Silu": NeuralOps.activation("silu"), "Swish": NeuralOps.activation("silu"),
        "Softplus": NeuralOps.activation("softplus"), "Softsign": NeuralOps.activation("softsign"), "Selu": NeuralOps.activation("selu"),
        "Mish": NeuralOps.activation("mish"), "Elu": NeuralOps.elu, "LeakyRelu": NeuralOps.leakyRelu, "Gelu": NeuralOps.gelu,
        "Softmax": NeuralOps.softmax("Softmax"), "LogSoftmax": NeuralOps.softmax("LogSoftmax"),
        // keras.ops.numpy: reductions
        "Mean": ReductionOps.reduce("ReduceMean"), "Sum": ReductionOps.reduce("ReduceSum"),
        "Max": ReductionOps.reduce("ReduceMax"), "Min": ReductionOps.reduce("ReduceMin"),
        "Var": ReductionOps.variance(root: false), "Std": ReductionOps.variance(root: true),
        "Argmax": ReductionOps.arg("ArgMax"), "Argmin": ReductionOps.arg("ArgMin"),
        // keras.ops.numpy: shapes and indexing
        "Reshape": ArrayOps.reshape, "Transpose": ArrayOps.transpose, "ExpandDims": ArrayOps.expandDims,
        "Squeeze": ArrayOps.squeeze, "Concatenate": ArrayOps.concatenate, "Stack": ArrayOps.stack, "Split": ArrayOps.split,
        "GetItem": ArrayOps.getItem,
    ]

    /// Whether a layer entry is a Keras 3 operation rather than a layer: its module says so
    /// (`.keras`), or, where the legacy `.h5` config records no module, its config is that of an
    /// operation (a layer's config always holds `trainable`; an operation's only its name and options).
    static func isOperation(_ layer: JSONValue, kerasMajor: Int) -> Bool {
        if let module = layer["module"]?.string { return module.hasPrefix("keras.src.ops") || module.hasPrefix("keras.ops") }
        guard kerasMajor >= 3, let className = layer["class_name"]?.string, lowerings[className] != nil else { return false }
        return layer["config"]?["trainable"] == nil
    }
}

/// Keras class name → lowering. Adding a layer is one function in the family's file plus one line here.
enum LayerRegistry {
    /// Layers made of sublayers whose Keras 3 weight files store each sublayer's variables apart, with
    /// the sublayers in the order of the layer's weights.
    static let sublayers: [String: [String]] = ["MultiHeadAttention": Attention.sublayers]

    static let lowerings: [String: Lowering] = [
        // Core
        "InputLayer": Core.input,
        "Dense": Core.dense,
        // Convolution
        "Conv1D": Convolution.conv,
        "Conv2D": Convolution.conv,
        "Conv3D": Convolution.conv,
        "DepthwiseConv2D": Convolution.depthwise,
        "SeparableConv2D": Convolution.separable,
        "Conv2DTranspose": Convolution.transpose,
        // Attention
        "MultiHeadAttention": Attention.multiHeadAttention,
        // Normalization
        "BatchNormalization": Normalization.batch,
        "LayerNormalization": Normalization.layer,
        // Activation
        "Activation": Activations.activation,
        "ReLU": Activations.relu,
        "LeakyReLU": Activations.leakyRelu,
        "PReLU": Activations.prelu,
        "ELU": Activations.elu,
        "Softmax": Activations.softmax,
        // Pooling
        "MaxPooling1D": Pooling.max,
        "MaxPooling2D": Pooling.max,
        "MaxPooling3D": Pooling.max,
        "AveragePooling1D": Pooling.average,
        "AveragePooling2D": Pooling.average,
        "AveragePooling3D": Pooling.average,
        "GlobalAveragePooling1D": Pooling.globalAverage,
        "GlobalAveragePooling2D": Pooling.globalAverage,
        "GlobalAveragePooling3D": Pooling.globalAverage,
        "GlobalMaxPooling1D": Pooling.globalMax,
        "GlobalMaxPooling2D": Pooling.globalMax,
        "GlobalMaxPooling3D": Pooling.globalMax,
        // Shape
        "Flatten": ShapeLayers.flatten,
        "Reshape": ShapeLayers.reshape,
        "Permute": ShapeLayers.permute,
        // keras.applications' own layers
        "LayerScale": ApplicationLayers.layerScale,
        "StochasticDepth": Regularization.passThrough,
        // Inference no-ops
        "Dropout": Regularization.passThrough,
        "SpatialDropout1D": Regularization.passThrough,
        "SpatialDropout2D": Regularization.passThrough,
        "SpatialDropout3D": Regularization.passThrough,
        "GaussianNoise": Regularization.passThrough,
        "GaussianDropout": Regularization.passThrough,
        "AlphaDropout": Regularization.passThrough,
        "ActivityRegularization": Regularization.passThrough,
        // Merge
        "Add": Merge.add,
        "Subtract": Merge.subtract,
        "Multiply": Merge.multiply,
        "Average": Merge.average,
        "Maximum": Merge.maximum,
        "Minimum": Merge.minimum,
        "Concatenate": Merge.concatenate,
        // Padding and resizing
        "ZeroPadding1D": Padding.zeroPadding,
        "ZeroPadding2D": Padding.zeroPadding,
        "ZeroPadding3D": Padding.zeroPadding,
        "Cropping1D": Padding.cropping,
        "Cropping2D": Padding.cropping,
        "Cropping3D": Padding.cropping,
        "UpSampling2D": Padding.upSampling,
        // Preprocessing
        "Rescaling": Preprocessing.rescaling,
        "Normalization": Preprocessing.normalization,
        "UnitNormalization": Preprocessing.unitNormalization,
        "Identity": Preprocessing.identity,
    ]
}

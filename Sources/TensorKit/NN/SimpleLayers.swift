/// Elementwise `max(x, 0)`, as PyTorch's `nn.ReLU`.
public final class ReLU: Layer {
    public var isTraining = true
    /// A ReLU layer.
    public init() {}
    /// Applies ReLU to `input`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// Max pooling, as PyTorch's `nn.MaxPool2d` (square window; see ``maxPool2d(_:kernelSize:stride:padding:)``).
public final class MaxPool2d: Layer {
    /// Window side, in pixels.
    public let kernelSize: Int
    /// Step between windows, in pixels.
    public let stride: Int
    /// −∞ padding on every side, in pixels.
    public let padding: Int
    public var isTraining = true

    /// Max pooling with a `kernelSize`² window (stride defaults to the kernel size).
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// Pools `input` (`[batch, channels, height, width]`).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Adaptive average pooling, as PyTorch's `nn.AdaptiveAvgPool2d`.
public final class AdaptiveAvgPool2d: Layer {
    /// Output (height, width).
    public let outputSize: (Int, Int)
    public var isTraining = true

    /// Pools to `outputSize` (default `(1, 1)`: global average pooling).
    public init(outputSize: (Int, Int) = (1, 1)) { self.outputSize = outputSize }

    /// Pools `input` (`[batch, channels, height, width]`) to `[batch, channels, oh, ow]`.
    public func callAsFunction(_ input: Tensor) -> Tensor { adaptiveAvgPool2d(input, outputSize: outputSize) }
}

/// Flattens dimensions from `startDim` on, as PyTorch's `nn.Flatten` (default 1).
public final class Flatten: Layer {
    /// First dimension folded.
    public let startDim: Int
    public var isTraining = true
    /// A flatten layer from `startDim`.
    public init(startDim: Int = 1) { self.startDim = startDim }
    /// Flattens `input`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened(startDim: startDim) }
}

/// Inverted dropout, as PyTorch's `nn.Dropout`: active only in training mode.
public final class Dropout: Layer {
    /// Drop probability.
    public let p: Float
    /// The mask source; reseed it for reproducible runs.
    public var generator: RandomGenerator
    public var isTraining = true

    /// Dropout with probability `p` in `[0, 1]`, masks drawn from a generator seeded with `seed`
    /// (from the system when `nil`).
    /// - Precondition: `p` in `[0, 1]`.
    public init(p: Float = 0.5, seed: UInt64? = nil) {
        precondition(p >= 0 && p <= 1, "TensorKit.Dropout: p = \(p) must lie in [0, 1]")
        self.p = p
        generator = seed.map { RandomGenerator(seed: $0) } ?? RandomGenerator()
    }

    /// Applies dropout in training mode; passes `input` through in evaluation mode.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        dropout(input, p: p, training: isTraining, generator: &generator)
    }
}

/// Layers applied in order, named `0`, `1`, … in state dicts as PyTorch's `nn.Sequential`.
///
/// A ``BatchNorm2d`` directly followed by a ``ReLU`` runs as one fused pass (same result).
public final class Sequential: Layer {
    /// The layers, in order.
    public let layers: [any Layer]
    public var isTraining = true

    /// A sequence of `layers`.
    public init(_ layers: [any Layer]) { self.layers = layers }
    /// A sequence of `layers`.
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public var namedChildren: [(name: String, module: any Module)] {
        layers.enumerated().map { (String($0.offset), $0.element as any Module) }
    }

    /// Applies each layer to the previous one's output.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        var i = 0
        while i < layers.count {
            if let bn = layers[i] as? BatchNorm2d, i + 1 < layers.count, layers[i + 1] is ReLU {
                x = bn.forward(x, fusedReLU: true)
                i += 2
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        return x
    }
}

/// PyTorch's default initialisers, drawn from a seedable ``RandomGenerator``.
public enum Initialization {
    /// Uniform values in `[-bound, bound)` of the given shape.
    public static func uniform(_ shape: [Int], bound: Float, generator: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = (2 * generator.nextUnitFloat() - 1) * bound }
        }
        return t
    }

    /// Kaiming-uniform with `a = √5`, PyTorch's default for `Conv2d` and `Linear` weights:
    /// `U(−b, b)` with `b = gain · √(3 / fanIn)`, `gain = √(2 / (1 + a²))`, i.e. `b = 1 / √fanIn`.
    /// `fanIn` is the product of all dimensions but the first.
    public static func kaimingUniformDefault(_ shape: [Int], generator: inout RandomGenerator) -> Tensor {
        let fanIn = shape.dropFirst().reduce(1, *)
        let a = Float(5).squareRoot()
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = fanIn > 0 ? gain * (3 / Float(fanIn)).squareRoot() : 0
        return uniform(shape, bound: bound, generator: &generator)
    }

    /// PyTorch's default bias of `Conv2d` and `Linear`: `U(−1/√fanIn, 1/√fanIn)`.
    public static func defaultBias(count: Int, fanIn: Int, generator: inout RandomGenerator) -> Tensor {
        uniform([count], bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0, generator: &generator)
    }
}

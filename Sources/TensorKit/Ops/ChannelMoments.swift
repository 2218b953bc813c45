/// Each channel's sum and sum of squares over a map `[N, C, H, W]`, in double: what batch
/// norm's training statistics need, added up by the convolution that produces the map while it
/// stores it (``conv2d(_:weight:bias:stride:padding:collectingMoments:)``), so that
/// ``batchNorm2d(_:weight:bias:runningMean:runningVar:training:momentum:eps:residual:fusedReLU:replicaStatistics:moments:)``
/// does not read the map once more for them.
package struct ChannelMoments {
    /// `Σ x` of each channel.
    package var sums: [Double]
    /// `Σ x²` of each channel (each square exact in double).
    package var squares: [Double]
    /// The values each channel sums over: `N · H · W`.
    package var count: Int

    /// The per-image moments a convolution wrote (`2 · (i · channels + c)`: image i's sum of
    /// channel c, then its sum of squares), added up over the images in order.
    init(perImage: UnsafePointer<Double>, images: Int, channels: Int, plane: Int) {
        var sums = [Double](repeating: 0, count: channels), squares = [Double](repeating: 0, count: channels)
        for i in 0..<images {
            for c in 0..<channels {
                sums[c] += perImage[2 * (i * channels + c)]
                squares[c] += perImage[2 * (i * channels + c) + 1]
            }
        }
        (self.sums, self.squares, count) = (sums, squares, images * plane)
    }

    /// The mean and the biased variance of channel `c`. The variance is `E[x²] − μ²` from exact
    /// squares summed in double: it loses about `(μ² / σ²) · 2⁻⁵³` of itself, negligible for any
    /// map float32 can resolve (`BatchNormTests`).
    func statistics(_ c: Int) -> (mean: Double, variance: Double) {
        let mean = sums[c] / Double(count)
        return (mean, Swift.max(0, squares[c] / Double(count) - mean * mean))
    }
}

/// An 8-bit greyscale or RGB image for ``SummaryWriter/addImage(_:_:step:wallTime:)``:
/// a spectrogram, a feature map, a confusion matrix.
///
/// Pixels are row-major, top row first, channels interleaved (`[height, width, channels]`).
public struct SummaryImage: Sendable, Equatable {
    /// The pixel layout; the raw values are TensorBoard's `colorspace` codes.
    public enum Channels: Int, Sendable {
        /// One byte per pixel.
        case greyscale = 1
        /// Three bytes per pixel: red, green, blue.
        case rgb = 3
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Greyscale or RGB.
    public let channels: Channels
    /// `height * width * channels.rawValue` bytes, row-major, channels interleaved.
    public let pixels: [UInt8]

    /// An image from raw bytes.
    ///
    /// - Throws: ``SummaryWriterError/invalidImage(reason:)`` when a dimension is not positive,
    ///   exceeds 65,535, or `pixels.count` is not `height * width * channels.rawValue`.
    public init(width: Int, height: Int, channels: Channels, pixels: [UInt8]) throws(SummaryWriterError) {
        guard width > 0, height > 0, width <= 65_535, height <= 65_535 else {
            throw .invalidImage(reason: "size \(width) x \(height) (expected 1...65535 in each dimension)")
        }
        guard pixels.count == width * height * channels.rawValue else {
            throw .invalidImage(
                reason:
                    "\(pixels.count) bytes for \(width) x \(height) x \(channels.rawValue) (expected \(width * height * channels.rawValue))"
            )
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image from floating-point intensities in `0...1`, as `torch.utils.tensorboard` converts
    /// float images: multiplied by 255, clipped to `0...255`, truncated to bytes. NaN becomes 0.
    ///
    /// - Throws: ``SummaryWriterError/invalidImage(reason:)`` as ``init(width:height:channels:pixels:)``.
    public init(width: Int, height: Int, channels: Channels, intensities: [Float]) throws(SummaryWriterError) {
        let bytes = intensities.map { v -> UInt8 in
            let scaled = v * 255
            return scaled >= 255 ? 255 : (scaled > 0 ? UInt8(scaled) : 0)
        }
        try self.init(width: width, height: height, channels: channels, pixels: bytes)
    }

    /// A greyscale image whose smallest finite value maps to black and largest to white, for data
    /// of any range such as a log-Mel spectrogram (`[mels, frames]`, row 0 drawn at the top).
    /// A constant image is black; NaN and infinities are clamped to the finite range.
    ///
    /// - Throws: ``SummaryWriterError/invalidImage(reason:)`` as ``init(width:height:channels:pixels:)``.
    public init(width: Int, height: Int, normalizing values: [Float]) throws(SummaryWriterError) {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        let scale: Float = hi > lo ? 255 / (hi - lo) : 0
        let bytes = values.map { v -> UInt8 in
            let clamped = v.isNaN ? lo : min(max(v, lo), hi)
            return scale == 0 ? 0 : UInt8(((clamped - lo) * scale).rounded())
        }
        try self.init(width: width, height: height, channels: .greyscale, pixels: bytes)
    }

    /// The image upside down: TensorBoard draws row 0 at the top, so flip a spectrogram
    /// (`[mels, frames]`, lowest band in row 0) to show low frequencies at the bottom.
    public func verticallyFlipped() -> SummaryImage {
        let rowBytes = width * channels.rawValue
        var flipped = [UInt8]()
        flipped.reserveCapacity(pixels.count)
        for row in stride(from: height - 1, through: 0, by: -1) {
            flipped += pixels[row * rowBytes..<(row + 1) * rowBytes]
        }
        return SummaryImage(validatedWidth: width, height: height, channels: channels, pixels: flipped)
    }

    private init(validatedWidth width: Int, height: Int, channels: Channels, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The image encoded as PNG.
    public func pngData() -> [UInt8] {
        PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: channels.rawValue)
    }
}

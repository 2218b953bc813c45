import AudioDSP

/// Renders a log-Mel spectrogram as an RGB heat map: low frequencies at the bottom, the top
/// `range` dB below the peak mapped through a perceptually ordered palette (magma-like).
enum HeatMap {
    /// Anchor colours of matplotlib's "magma", evenly spaced from 0 to 1.
    static let palette: [(Float, Float, Float)] = [
        (0.001, 0.000, 0.014), (0.114, 0.067, 0.282), (0.317, 0.071, 0.485), (0.512, 0.148, 0.507),
        (0.716, 0.215, 0.475), (0.904, 0.318, 0.383), (0.986, 0.536, 0.382), (0.996, 0.765, 0.534),
        (0.987, 0.991, 0.750),
    ]

    /// RGB pixels (`width * height * 3`) with each cell drawn as `scale x scale` pixels.
    static func render(_ spec: Spectrogram, range: Float = 80, scale: Int) -> (rgb: [UInt8], width: Int, height: Int) {
        let peak = spec.values.max() ?? 0
        let width = spec.frameCount * scale, height = spec.rowCount * scale
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = spec.rowCount - 1 - y / scale
            for x in 0..<width {
                let v = spec[row, x / scale]
                let t = max(0, min(1, (v - (peak - range)) / range)) * Float(palette.count - 1)
                let i = min(Int(t), palette.count - 2), f = t - Float(i)
                let a = palette[i], b = palette[i + 1]
                let p = (y * width + x) * 3
                rgb[p] = UInt8((255 * (a.0 + (b.0 - a.0) * f)).rounded())
                rgb[p + 1] = UInt8((255 * (a.1 + (b.1 - a.1) * f)).rounded())
                rgb[p + 2] = UInt8((255 * (a.2 + (b.2 - a.2) * f)).rounded())
            }
        }
        return (rgb, width, height)
    }
}

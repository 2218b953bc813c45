import Foundation

/// The mapping between frequency in Hz and the Mel scale.
public enum MelScale: String, Codable, Sendable, CaseIterable {
    /// `2595 log10(1 + f / 700)` (O'Shaughnessy; torchaudio's default, librosa's `htk=True`).
    case htk
    /// Slaney's Auditory Toolbox: linear below 1 kHz (3 Mel per 200 Hz), logarithmic above
    /// (librosa's default, torchaudio's `mel_scale="slaney"`).
    case slaney

    private static let slaneyHzPerMel = 200.0 / 3
    private static let slaneyLogStartHz = 1000.0
    private static var slaneyLogStartMel: Double { slaneyLogStartHz / slaneyHzPerMel }
    private static let slaneyLogStep = log(6.4) / 27

    /// `hertz` (Hz) on this scale, in Mel.
    public func mel(fromHertz hertz: Double) -> Double {
        switch self {
        case .htk:
            return 2595 * log10(1 + hertz / 700)
        case .slaney:
            if hertz >= Self.slaneyLogStartHz {
                return Self.slaneyLogStartMel + log(hertz / Self.slaneyLogStartHz) / Self.slaneyLogStep
            }
            return hertz / Self.slaneyHzPerMel
        }
    }

    /// `mel` (Mel) on this scale, in Hz.
    public func hertz(fromMel mel: Double) -> Double {
        switch self {
        case .htk:
            return 700 * (pow(10, mel / 2595) - 1)
        case .slaney:
            if mel >= Self.slaneyLogStartMel {
                return Self.slaneyLogStartHz * exp(Self.slaneyLogStep * (mel - Self.slaneyLogStartMel))
            }
            return Self.slaneyHzPerMel * mel
        }
    }
}

/// How each triangular Mel filter is scaled.
public enum MelNorm: String, Codable, Sendable, CaseIterable {
    /// Peak 1 for every filter.
    case none
    /// Area normalisation: each filter is divided by its width in Hz / 2 (`2 / (f[m+2] - f[m])`),
    /// so wide high-frequency filters do not dominate.
    case slaney
}

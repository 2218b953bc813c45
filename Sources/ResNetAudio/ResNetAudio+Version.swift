/// Version information for the `ResNetAudio` library product.
public enum ResNetAudioLibrary {
    /// The semantic version of `ResNetAudio`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

/// Version information for the `AudioClassification` library product.
public enum AudioClassificationLibrary {
    /// The semantic version of `AudioClassification`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

/// Version information for the `AudioDSP` library product.
public enum AudioDSPLibrary {
    /// The semantic version of `AudioDSP`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

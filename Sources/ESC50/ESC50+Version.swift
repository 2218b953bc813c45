/// Version information for the `ESC50` library product.
public enum ESC50Library {
    /// The semantic version of `ESC50`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

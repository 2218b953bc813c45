/// Version information for the `TBLogger` library product.
public enum TBLoggerLibrary {
    /// The semantic version of `TBLogger`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

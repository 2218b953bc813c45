/// Version information for the `TensorKit` library product.
public enum TensorKitLibrary {
    /// The semantic version of `TensorKit`; see its section in CHANGELOG.md.
    public static let version = "0.1.0"
}

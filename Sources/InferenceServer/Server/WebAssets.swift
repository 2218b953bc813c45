import Foundation

/// The page (`index.html`, `app.js`, `style.css`) and `openapi.json`, read once from the
/// target's resources at start-up and served from memory.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    let files: [String: Asset]
    let openAPI: [UInt8]

    /// Reads every asset.
    /// - Throws: ``ServerError/missingResource(_:)`` naming the first file that is not there.
    init() throws(ServerError) {
        let bundle = Self.bundle
        func read(_ name: String, _ ext: String, _ subdirectory: String?) throws(ServerError) -> [UInt8] {
            guard let url = bundle.url(forResource: name, withExtension: ext, subdirectory: subdirectory),
                let data = try? Data(contentsOf: url)
            else {
                throw .missingResource("\(subdirectory.map { $0 + "/" } ?? "")\(name).\(ext) in \(bundle.bundlePath)")
            }
            return [UInt8](data)
        }
        files = [
            "/": Asset(bytes: try read("index", "html", "Web"), contentType: "text/html; charset=utf-8"),
            "/app.js": Asset(bytes: try read("app", "js", "Web"), contentType: "text/javascript; charset=utf-8"),
            "/style.css": Asset(bytes: try read("style", "css", "Web"), contentType: "text/css; charset=utf-8"),
        ]
        openAPI = try read("openapi", "json", nil)
    }

    /// The resource bundle next to the executable (an installed copy), else the build's.
    private static var bundle: Bundle {
        let beside = Bundle.main.bundleURL.appendingPathComponent("AudioCNN-Swift_InferenceServer.resources")
        return Bundle(url: beside) ?? Bundle.module
    }
}

/// Why the server could not start.
public enum ServerError: Error, Equatable, CustomStringConvertible {
    /// A file of the page or the OpenAPI document is missing from the installed resources.
    case missingResource(String)
    /// A configuration value is out of range; the text names it and what is expected.
    case invalidConfiguration(String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .missingResource(let what): return "missing server resource \(what); reinstall audiocnn with its .resources directory"
        case .invalidConfiguration(let why): return "invalid server configuration: \(why)"
        }
    }
}

/// How `audiocnn serve` listens and what it accepts.
public struct ServerConfiguration: Sendable, Equatable {
    /// Interface to bind. The default, loopback, keeps the service private to this machine;
    /// use `0.0.0.0` to expose it.
    public var host: String = "127.0.0.1"
    /// TCP port.
    public var port: Int = 8000
    /// Largest request body accepted, in bytes (base64 makes a file 4/3 larger).
    public var maximumBodyBytes: Int = 32 * 1024 * 1024
    /// Longest clip accepted, in seconds (the classifier's own limit still applies if tighter).
    public var maximumAudioSeconds: Double = 60
    /// Inferences that may run at once (each uses every core already).
    public var concurrency: Int = 1
    /// Requests that may wait for an inference slot before the server answers 503.
    public var queueLimit: Int = 32
    /// `Access-Control-Allow-Origin`: `*` (default), or one origin such as `http://localhost:3000`.
    public var allowedOrigin: String = "*"
    /// Most channels an uploaded clip may have; checked in its header before decoding.
    public var maximumChannels: Int = 32
    /// Seconds a client has to send a complete request (headers and body), counted from the
    /// connection's opening or the end of the previous response; the connection is closed after
    /// that. Stops slow-loris clients from holding connections and memory; also the keep-alive
    /// idle limit.
    public var requestTimeout: Double = 30

    /// The defaults above, with any argument overriding its field.
    public init(
        host: String = "127.0.0.1", port: Int = 8000, maximumBodyBytes: Int = 32 * 1024 * 1024,
        maximumAudioSeconds: Double = 60, concurrency: Int = 1, queueLimit: Int = 32,
        allowedOrigin: String = "*", maximumChannels: Int = 32, requestTimeout: Double = 30
    ) {
        self.host = host
        self.port = port
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumAudioSeconds = maximumAudioSeconds
        self.concurrency = concurrency
        self.queueLimit = queueLimit
        self.allowedOrigin = allowedOrigin
        self.maximumChannels = maximumChannels
        self.requestTimeout = requestTimeout
    }
}

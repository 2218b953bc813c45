import Hummingbird
import NIOCore

/// The request context of the inference service: Hummingbird's basic context plus the channel
/// the request arrived on, so that a route can notice its client hanging up.
public struct ServerRequestContext: RequestContext {
    /// Hummingbird's per-request state (logger, parameters, allocator).
    public var coreContext: CoreRequestContextStorage
    /// The connection's channel.
    let channel: any Channel

    /// A context for a request that arrived on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

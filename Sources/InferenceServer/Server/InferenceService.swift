import AudioClassification
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The HTTP inference service: its routes, limits and the pool the model runs on.
///
/// ```swift
/// let classifier = try AudioClassifier(checkpoint: url)
/// let service = try InferenceService(classifier: classifier, configuration: ServerConfiguration())
/// try await service.application().runService()
/// ```
/// Routes: `POST /` (classify, the reference service's request and response; `start`/`end` for one
/// segment), `POST /scan` (class probabilities of sliding windows), `GET /` (the
/// page), `GET /health`, `GET /classes`, `GET /openapi.json`; CORS on every route. See Docs/API.md.
public struct InferenceService: Sendable {
    /// The classifier every request uses.
    public let classifier: AudioClassifier
    /// Limits and address.
    public let configuration: ServerConfiguration
    /// The bounded pool inference jobs run on.
    public let pool: InferencePool
    let assets: WebAssets

    /// A service for `classifier` with `configuration`.
    /// - Throws: ``ServerError`` when a limit is out of range or a resource is missing.
    public init(classifier: AudioClassifier, configuration: ServerConfiguration) throws(ServerError) {
        guard configuration.maximumBodyBytes > 0 else {
            throw .invalidConfiguration("maximum body size \(configuration.maximumBodyBytes) must be positive")
        }
        guard (0...65_535).contains(configuration.port) else {
            throw .invalidConfiguration("port \(configuration.port) must be in 0...65535")
        }
        guard configuration.concurrency >= 1 else {
            throw .invalidConfiguration("concurrency \(configuration.concurrency) must be at least 1")
        }
        guard configuration.queueLimit >= 0 else {
            throw .invalidConfiguration("queue limit \(configuration.queueLimit) must not be negative")
        }
        guard configuration.maximumAudioSeconds > 0, configuration.maximumAudioSeconds.isFinite else {
            throw .invalidConfiguration("maximum audio duration \(configuration.maximumAudioSeconds) s must be positive")
        }
        guard configuration.maximumChannels >= 1 else {
            throw .invalidConfiguration("maximum channels \(configuration.maximumChannels) must be at least 1")
        }
        guard configuration.requestTimeout > 0, configuration.requestTimeout.isFinite else {
            throw .invalidConfiguration("request timeout \(configuration.requestTimeout) s must be positive")
        }
        self.classifier = classifier
        self.configuration = configuration
        pool = InferencePool(width: configuration.concurrency, queueLimit: configuration.queueLimit)
        assets = try WebAssets()
    }

    /// The router with every route and the CORS middleware.
    public func router() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        let origin = configuration.allowedOrigin
        router.add(
            middleware: CORSMiddleware(
                allowOrigin: origin == "*" ? .all : .custom(origin),
                allowHeaders: [.accept, .contentType, .origin],
                allowMethods: [.get, .post, .options]))
        addPredictRoute(to: router)
        addScanRoute(to: router)
        addInfoRoutes(to: router)
        addPageRoutes(to: router)
        return router
    }

    /// An application serving ``router()`` on ``configuration``'s host and port.
    ///
    /// - Parameter onServerRunning: called with the bound port once the server listens (useful
    ///   with port 0).
    public func application(
        logger: Logger = Logger(label: "audiocnn.serve"),
        onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let timeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeout * 1e9))
        return Application(
            router: router(),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeout: timeout), ClientDisconnectHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "audiocnn"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
            logger: logger)
    }
}

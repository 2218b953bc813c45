import Foundation
import Logging
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// Runs the real server (TestModel's checkpoint) on an ephemeral loopback port for `body`, which
/// gets the port and the service; the server is stopped when `body` returns or throws.
func withRunningServer(
    _ configuration: ServerConfiguration,
    _ body: @escaping @Sendable (Int, InferenceService) async throws -> Void
) async throws {
    let service = try TestModel.shared.service(configuration)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "inference-server-tests")
    logger.logLevel = .critical
    let server = Task { [logger] in
        try await service.application(logger: logger) { port in continuation.yield(port ?? 0) }.runService()
    }
    defer { server.cancel() }
    var iterator = ports.makeAsyncIterator()
    let next = await iterator.next()
    try await body(try XCTUnwrap(next), service)
}

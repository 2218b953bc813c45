import NIOCore
import NIOHTTPTypes

/// Tells the routes when the client of a connection hangs up, so that a request nobody waits for
/// any more is dropped from the inference queue instead of computed.
///
/// Hummingbird allows remote half-closure on its connections, so a client closing its socket
/// does not close the channel: it only shows as `ChannelEvent.inputClosed`, and the channel stays
/// open until the route has answered. Like nginx (which answers such requests 499), this handler
/// takes end of input while a response is owed as the client giving up: an HTTP/1.1 client that
/// shuts down its sending side and still waits for the answer loses its request.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The connection's state, shared with the requests it carries.
    let connection = ClientConnection()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            connection.markGone()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.markGone()
        context.fireChannelInactive()
    }

    /// The state of `channel`'s client, or nil when the channel has no such handler (as in
    /// HummingbirdTesting's router mode) or is gone.
    static func connection(of channel: any Channel) async -> ClientConnection? {
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ClientDisconnectHandler.self).connection
        }.get()
    }
}

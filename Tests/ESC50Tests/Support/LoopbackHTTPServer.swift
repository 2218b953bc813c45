#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A tiny HTTP/1.1 file server on 127.0.0.1 for the downloader tests, on POSIX sockets.
///
/// Serves one body at `/archive.zip` with an ETag (and a redirect to it at `/redirect`); honours `Range: bytes=N-` (206, or 416 past
/// the end) and `If-Range` unless told to ignore ranges; can cut the connection after a number
/// of body bytes for its first responses, to test resuming. One connection at a time,
/// `Connection: close` on each response.
final class LoopbackHTTPServer: @unchecked Sendable {
    struct Request: Equatable {
        var path: String
        var range: String?
        var ifRange: String?
    }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var body: Data
    private var etag: String
    private var honoursRanges: Bool
    private var dropsLeft: Int
    private var dropAfter: Int
    private var log: [Request] = []
    private var bytesSent = 0
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - drops: how many responses to cut short, each after `dropAfter` body bytes.
    init(body: Data, etag: String = "\"v1\"", honoursRanges: Bool = true, drops: Int = 0, dropAfter: Int = 0) throws {
        self.body = body
        self.etag = etag
        self.honoursRanges = honoursRanges
        self.dropsLeft = drops
        self.dropAfter = dropAfter
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in serve() }
        thread.name = "LoopbackHTTPServer"
        thread.start()
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/archive.zip")! }
    var requests: [Request] { lock.withLock { log } }
    var totalBodyBytesSent: Int { lock.withLock { bytesSent } }

    func update(body: Data? = nil, etag: String? = nil, honoursRanges: Bool? = nil, drops: Int? = nil, dropAfter: Int? = nil) {
        lock.withLock {
            if let body { self.body = body }
            if let etag { self.etag = etag }
            if let honoursRanges { self.honoursRanges = honoursRanges }
            if let drops { self.dropsLeft = drops }
            if let dropAfter { self.dropAfter = dropAfter }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        done.wait()
    }

    private func serve() {
        defer { done.signal() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var received = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !received.ends(with: Array("\r\n\r\n".utf8)) {
            let n = recv(client, &chunk, chunk.count, 0)
            if n <= 0 { return }
            received.append(contentsOf: chunk[0..<n])
        }
        let lines = String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(path: String(parts[1]), range: headers["range"], ifRange: headers["if-range"])
        let (body, etag, honoursRanges, cut) = lock.withLock { () -> (Data, String, Bool, Int?) in
            log.append(request)
            var cut: Int? = nil
            if request.path == "/archive.zip", dropsLeft > 0 { dropsLeft -= 1; cut = dropAfter }
            return (self.body, self.etag, self.honoursRanges, cut)
        }
        if request.path == "/redirect" {
            // As GitHub's archive URL redirects to codeload.github.com.
            send(
                client,
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:\(port)/archive.zip\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                body: Data())
            return
        }
        guard request.path == "/archive.zip" else {
            send(client, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", body: Data())
            return
        }
        var start = 0
        var status = "200 OK"
        var extra = ""
        if honoursRanges, let range = request.range, range.hasPrefix("bytes="), range.hasSuffix("-"),
            let from = Int(range.dropFirst(6).dropLast()), request.ifRange == nil || request.ifRange == etag
        {
            if from >= body.count {
                send(
                    client,
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(body.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    body: Data())
                return
            }
            start = from
            status = "206 Partial Content"
            extra = "Content-Range: bytes \(from)-\(body.count - 1)/\(body.count)\r\n"
        }
        let payload = body.subdata(in: start..<body.count)
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: application/zip\r\nContent-Length: \(payload.count)\r\nETag: \(etag)\r\n"
            + (honoursRanges ? "Accept-Ranges: bytes\r\n" : "") + extra + "Connection: close\r\n\r\n"
        send(client, head, body: cut.map { payload.prefix($0) } ?? payload)
    }

    private func send(_ client: Int32, _ head: String, body: Data) {
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: body)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            offset += n
        }
        lock.withLock { bytesSent += max(0, offset - head.utf8.count) }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

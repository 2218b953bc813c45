import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with the process's file-size limit (`RLIMIT_FSIZE`, what `ulimit -f` sets)
/// lowered to `bytes` and `SIGXFSZ` ignored, so a write past the limit fails with `EFBIG`, the
/// way a write to a full disk fails with `ENOSPC`, without needing root to mount a small file
/// system. The limit and the signal's handler are restored afterwards.
public func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) throws -> T {
    #if os(Linux)
    let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
    #else
    let resource = RLIMIT_FSIZE
    #endif
    var saved = rlimit()
    guard getrlimit(resource, &saved) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPERM) }
    var lowered = saved
    lowered.rlim_cur = rlim_t(bytes)
    let handler = signal(SIGXFSZ, SIG_IGN)
    guard setrlimit(resource, &lowered) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPERM) }
    defer {
        setrlimit(resource, &saved)
        signal(SIGXFSZ, handler)
    }
    return try body()
}

/// The names in `directory` that end in `.tmp` (what an interrupted atomic write would leave).
public func temporaryFiles(in directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".tmp") }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a safetensors file: a read-only memory map of the file, or an owned copy for
/// in-memory input. Immutable after creation, so sharing it across threads is safe.
final class SafeTensorsStorage: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let isMapped: Bool

    /// Maps `path` read-only. The pages are loaded lazily by the kernel, so opening a large
    /// checkpoint costs almost nothing until tensors are read.
    init(mapping path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsStorage.ioError(path, "open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SafeTensorsStorage.ioError(path, "stat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .notSafeTensors(source: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw .notSafeTensors(source: path, reason: "the file is \(size) bytes, shorter than the 8-byte header length")
        }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
            pointer != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw SafeTensorsStorage.ioError(path, "mmap")
        }
        base = UnsafeRawPointer(pointer)
        count = size
        isMapped = true
    }

    /// Copies `bytes` into storage owned by this object.
    init(copying bytes: UnsafeRawBufferPointer) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress { buffer.copyMemory(from: source, byteCount: bytes.count) }
        base = UnsafeRawPointer(buffer)
        count = bytes.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    static func ioError(_ path: String, _ operation: String) -> SafeTensorsError {
        .io(path: path, operation: operation, message: String(cString: strerror(errno)))
    }
}

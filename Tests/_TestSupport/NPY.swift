import Foundation

/// A float32 array read from a NumPy `.npy` file (version 1 or 2, little-endian, C order).
public struct NPYArray {
    public var shape: [Int]
    public var values: [Float]

    public enum Error: Swift.Error, CustomStringConvertible {
        case notNPY(String)
        case unsupported(String)
        public var description: String {
            switch self {
            case .notNPY(let s): return "not a .npy file: \(s)"
            case .unsupported(let s): return "unsupported .npy: \(s)"
            }
        }
    }

    /// Reads `url`; accepts dtypes `<f4` and `<f8` (converted to Float).
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        try self.init(data: data, name: url.lastPathComponent)
    }

    public init(data: Data, name: String = "data") throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Error.notNPY(name)
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard !header.contains("'fortran_order': True") else { throw Error.unsupported("\(name): Fortran order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw Error.notNPY("\(name): no shape in header")
        }
        shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let body = headerStart + headerLength
        if header.contains("'<f4'") {
            guard bytes.count - body >= count * 4 else { throw Error.notNPY("\(name): truncated") }
            values = bytes[body..<body + count * 4].withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
            }
        } else if header.contains("'<f8'") {
            guard bytes.count - body >= count * 8 else { throw Error.notNPY("\(name): truncated") }
            values = bytes[body..<body + count * 8].withUnsafeBytes { raw in
                (0..<count).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian)) }
            }
        } else {
            throw Error.unsupported("\(name): dtype in \(header)")
        }
    }
}

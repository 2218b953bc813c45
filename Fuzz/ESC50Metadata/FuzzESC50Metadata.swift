import Foundation
@testable import ESC50

private let csv = URL(fileURLWithPath: "/fuzz/meta/esc50.csv")

/// libFuzzer entry point: the input as `meta/esc50.csv`, decoded and parsed as
/// `SoundDataset(directory:)` does. Every accepted row must name a clip inside `audio/`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzESC50Metadata(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(data: Data(bytes: data, count: size), encoding: .utf8) else { return 0 }
    guard let records = try? SoundDataset.parse(csv: text, file: csv, columns: .esc50).records else { return 0 }
    for record in records {
        let components = record.filename.split(separator: "/", omittingEmptySubsequences: false)
        precondition(!record.filename.hasPrefix("/") && !components.contains("..") && record.fold >= 1 && record.target >= 0)
    }
    return 0
}

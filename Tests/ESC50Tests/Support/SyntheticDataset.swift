import Foundation
import XCTest
import _TestSupport

/// 16-bit PCM WAV files for the synthetic data sets (written by `_TestSupport`'s `WAV`).
enum TestWAV {
    /// `channels` holds one `[Int16]` per channel, all of one length.
    static func data(channels: [[Int16]], sampleRate: Int) -> Data {
        WAV.pcm16(channels, sampleRate: sampleRate)
    }

    static func write(_ url: URL, channels: [[Int16]], sampleRate: Int) throws {
        try data(channels: channels, sampleRate: sampleRate).write(to: url)
    }

    /// A mono tone whose pitch depends on `seed`, `count` samples long.
    static func tone(seed: Int, count: Int, sampleRate: Int) -> [Int16] {
        let frequency = 200.0 + Double(seed % 37) * 45
        return (0..<count).map { Int16(8000 * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate))) }
    }
}

/// A tiny data set in the ESC-50 layout, written into a fresh temporary folder.
struct SyntheticDataset {
    let root: URL
    var csvURL: URL { root.appendingPathComponent("meta/esc50.csv") }
    var audio: URL { root.appendingPathComponent("audio") }

    /// Rows as (filename, fold, target, category, esc10, src_file, take).
    typealias Row = (filename: String, fold: Int, target: Int, category: String, esc10: Bool, source: String, take: String)

    /// `classes` with ESC-50-like targets (deliberately not in name order), `folds` folds,
    /// `perClassPerFold` clips each; every other class is marked esc10.
    static func rows(
        classes: [String] = ["dog", "rain", "chainsaw", "airplane"], folds: Int = 3,
        perClassPerFold: Int = 2
    ) -> [Row] {
        var rows: [Row] = []
        for fold in 1...folds {
            for (target, category) in classes.enumerated() {
                for k in 0..<perClassPerFold {
                    // Two takes per recording, so split-by-source is exercised.
                    let source = "\(1000 + target * 100 + fold * 10 + k / 2)"
                    let take = ["A", "B"][k % 2]
                    rows.append(
                        (
                            "\(fold)-\(source)-\(take)-\(target).wav", fold, target, category,
                            target % 2 == 0, source, take
                        ))
                }
            }
        }
        return rows
    }

    static func csv(_ rows: [Row]) -> String {
        var text = "filename,fold,target,category,esc10,src_file,take\n"
        for r in rows {
            text += "\(r.filename),\(r.fold),\(r.target),\(r.category),\(r.esc10 ? "True" : "False"),\(r.source),\(r.take)\n"
        }
        return text
    }

    /// Writes `rows` (clips of `samples` samples at `sampleRate`) and `csvText` (default: `csv(rows)`).
    static func make(
        rows: [Row] = rows(), csvText: String? = nil, samples: Int = 800, sampleRate: Int = 8000,
        in parent: URL? = nil
    ) throws -> SyntheticDataset {
        let root = (parent ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("esc50-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("meta"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("audio"), withIntermediateDirectories: true)
        for (index, row) in rows.enumerated() {
            try TestWAV.write(
                root.appendingPathComponent("audio/\(row.filename)"),
                channels: [TestWAV.tone(seed: index, count: samples, sampleRate: sampleRate)],
                sampleRate: sampleRate)
        }
        try Data((csvText ?? csv(rows)).utf8).write(to: root.appendingPathComponent("meta/esc50.csv"))
        return SyntheticDataset(root: root)
    }

    func writeCSV(_ text: String) throws {
        try Data(text.utf8).write(to: csvURL)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// A fresh temporary folder removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("esc50-tmp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

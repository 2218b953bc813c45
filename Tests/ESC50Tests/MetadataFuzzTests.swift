import Foundation
import XCTest
import _TestSupport
@testable import ESC50

/// The ESC-50 CSV reader never crashes: seeded mutants of valid metadata (with quotes, a BOM,
/// CRLF and extra columns) parse into validated records or fail with an ``ESC50Error`` that
/// names the file and a line inside it.
final class MetadataFuzzTests: XCTestCase {
    private let file = URL(fileURLWithPath: "/data/meta/esc50.csv")

    private var seeds: [[UInt8]] {
        [
            Array(
                ("filename,fold,target,category,esc10,src_file,take\n"
                    + "1-100032-A-0.wav,1,0,dog,True,100032,A\n1-100038-A-14.wav,1,14,chirping_birds,False,100038,A\n"
                    + "2-100648-A-43.wav,2,43,\"chirping, \"\"birds\"\"\",False,100648,A\n\n").utf8),
            Array("\u{FEFF}fold,filename,category,target,extra\r\n3,a/b.wav,rain,10,x\r\n4,\"c\r\nd.wav\",sea_waves,11,\r\n".utf8),
            Array("filename,fold,target,category\nx.wav,1,0,dog\ny.wav,1,0,dog\nz.wav,2,1,cat".utf8),
        ]
    }

    func testSeededMutantsParseOrNameTheFileAndLine() throws {
        for seed in seeds {
            XCTAssertEqual(try SoundDataset.parse(csv: String(decoding: seed, as: UTF8.self), file: file, columns: .esc50).issues.count, 0)
        }
        var mutator = Mutator(seed: 0xE5C5_0C5F)
        var parsed = 0, rejected = 0
        for step in 0..<6_000 {
            let bytes = mutator.mutant(of: seeds)
            // As SoundDataset(directory:) does: invalid UTF-8 is refused before parsing.
            guard let text = String(data: Data(bytes), encoding: .utf8) else { continue }
            let lines = text.reduce(1) { $0 + ($1 == "\n" || $1 == "\r\n" || $1 == "\r" ? 1 : 0) }
            do {
                let (records, issues) = try SoundDataset.parse(csv: text, file: file, columns: .esc50)
                XCTAssertFalse(records.isEmpty && issues.isEmpty, "step \(step)")
                for issue in issues {
                    // Rows with errors are listed, each naming the file and a line of it.
                    XCTAssertTrue(issue.error.description.contains(file.path), "step \(step): \(issue.error)")
                    XCTAssertTrue((1...lines).contains(issue.problem.line ?? 0), "step \(step): \(issue.problem)")
                }
                for record in records {
                    let components = record.filename.split(separator: "/", omittingEmptySubsequences: false)
                    XCTAssertFalse(
                        record.filename.isEmpty || record.filename.hasPrefix("/") || components.contains(".."),
                        "step \(step): no path may leave audio/: \(record.filename)")
                    XCTAssertGreaterThanOrEqual(record.fold, 1)
                    XCTAssertTrue((1...lines).contains(record.csvLine), "step \(step)")
                }
                if issues.isEmpty { parsed += 1 } else { rejected += 1 }
            } catch {
                XCTAssertTrue(error.description.contains(file.path), "step \(step): \(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(rejected, 100)
    }

    /// A zero-byte or blank metadata file is refused naming the file and line 1.
    func testEmptyCSVNamesTheFile() throws {
        for text in ["", "\n\r\n\n", "\u{FEFF}"] {
            let data = try SyntheticDataset.make(rows: SyntheticDataset.rows(folds: 1, perClassPerFold: 1), csvText: text, samples: 80)
            defer { data.remove() }
            XCTAssertThrowsError(try SoundDataset(directory: data.root)) { error in
                XCTAssertEqual(error as? ESC50Error, .malformedCSV(data.csvURL, line: 1, reason: "the file is empty (no header line)"))
                XCTAssertTrue("\(error)".hasPrefix(data.csvURL.path + ":1:"), "\(error)")
            }
        }
    }
}

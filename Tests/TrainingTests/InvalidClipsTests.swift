import AudioDSP
import ESC50
import Foundation
import Training
import XCTest

/// A data set with broken clips is refused with the full list, or trained on without them
/// (each one named in `skipped-clips.txt`); a broken clip never trains as silence.
final class InvalidClipsTests: XCTestCase {
    func testBrokenClipsAreRefusedOrSkippedAndListed() throws {
        // The tiny synthetic set, plus a valid-header WAV with no samples and a row naming a
        // file that is not there.
        let root = TinyData.freshDirectory("invalid")
        var synthetic = SyntheticDataset()
        synthetic.sampleRate = 16_000
        synthetic.duration = 1
        synthetic.folds = 3
        synthetic.clipsPerClassPerFold = 2
        try synthetic.write(to: root)
        let csv = root.appendingPathComponent("meta/esc50.csv")
        let empty = WAVEncoder.pcm16([], sampleRate: 16_000)  // a valid header, no samples
        try empty.write(to: root.appendingPathComponent("audio/empty.wav"))
        var text = try String(contentsOf: csv, encoding: .utf8)
        text += "empty.wav,1,0,am_tone,False,900,A\ngone.wav,2,0,am_tone,False,901,A\n"
        try text.write(to: csv, atomically: true, encoding: .utf8)

        let dataset = try SoundDataset(directory: root, invalidRows: .skip)
        let report = dataset.verify(melConfig: TinyData.mel, validationFold: 3)
        XCTAssertEqual(report.invalidFiles, ["empty.wav", "gone.wav"], "\(report)")

        XCTAssertThrowsError(
            try TrainingData.split(of: dataset, validationFold: 3, report: report, melConfig: TinyData.mel, clipDuration: 1)
        ) {
            guard case .invalidClips(let refused) = $0 as? TrainingError else { return XCTFail("\($0)") }
            XCTAssertEqual(refused.errors.map(\.file), ["empty.wav", "gone.wav"])
            XCTAssertTrue("\($0)".contains("esc50.csv:38: empty.wav: empty file"), "\($0)")
        }

        let data = try TrainingData.split(
            of: dataset, validationFold: 3, report: report, skipInvalid: true, melConfig: TinyData.mel, clipDuration: 1)
        XCTAssertEqual(data.skipped.map(\.file), ["empty.wav", "gone.wav"])
        XCTAssertEqual(data.train.count + data.validation.count, 36)
        XCTAssertFalse((data.train + data.validation).contains { $0.url.lastPathComponent == "empty.wav" })

        let out = root.appendingPathComponent("ckpt")
        var configuration = TinyData.configuration(epochs: 1)
        configuration.batchSize = 12
        try Trainer(configuration: configuration, model: .small(classes: 6), data: data, outputDirectory: out).run()
        let listed = try String(contentsOf: out.appendingPathComponent("skipped-clips.txt"), encoding: .utf8)
        XCTAssertEqual(listed.split(separator: "\n").count, 2)
        XCTAssertTrue(listed.contains("empty.wav") && listed.contains("gone.wav"), listed)

        // Without verification, the empty clip still cannot pass for silence: loading it fails.
        let unverified = try TrainingData.split(
            of: dataset.removing(files: ["gone.wav"]), validationFold: 3, melConfig: TinyData.mel, clipDuration: 1)
        let item = try XCTUnwrap(unverified.train.first { $0.url.lastPathComponent == "empty.wav" })
        XCTAssertThrowsError(try unverified.features.features(of: item))
    }
}

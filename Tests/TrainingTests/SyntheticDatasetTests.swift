import AudioDSP
import ESC50
import Foundation
import Training
import XCTest

final class SyntheticDatasetTests: XCTestCase {
    /// The synthetic set is a valid ESC-50-layout data set: SoundDataset reads its CSV, and
    /// libsndfile (through AudioDSP) decodes every WAV at the stated rate and length.
    func testWritesAnESC50LayoutReadableByLibsndfile() throws {
        let url = TinyData.freshDirectory("synthetic")
        var synthetic = SyntheticDataset()
        synthetic.sampleRate = 8_000
        synthetic.duration = 0.5
        synthetic.folds = 2
        synthetic.clipsPerClassPerFold = 1
        try synthetic.write(to: url)
        let dataset = try SoundDataset(directory: url)
        XCTAssertEqual(dataset.clips.count, 12)
        XCTAssertEqual(dataset.folds, [1, 2])
        XCTAssertEqual(dataset.classes, SyntheticDataset.classes)
        for clip in dataset.clips {
            let audio = try AudioFile(contentsOf: dataset.audioURL(for: clip))
            XCTAssertEqual(audio.sampleRate, 8_000)
            XCTAssertEqual(audio.samples.count, 4_000)
            let peak = audio.samples.map(abs).max() ?? 0
            XCTAssertGreaterThan(peak, 0.01, clip.filename)
            XCTAssertLessThanOrEqual(peak, 1, clip.filename)
        }
    }
}

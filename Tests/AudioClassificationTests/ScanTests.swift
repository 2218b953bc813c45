import AudioDSP
import Foundation
import XCTest
import _TestSupport
@testable import AudioClassification

/// Sliding-window scanning: each window against the whole-clip path on the same samples (which
/// is checked against PyTorch in AudioClassifierTests), streaming against in-memory, batching,
/// event merging, the row formats, the errors, and a 60-s recording built from real clips.
final class ScanTests: XCTestCase {
    private func randomClassifier() throws -> AudioClassifier {
        try AudioClassifier(checkpoint: Fixtures.url("ResNetAudio", "small_exported.safetensors"))
    }

    /// The small model trained on ESC-10 (Scripts/fixtures/make_scan_checkpoint.sh): its
    /// probabilities are spread, unlike the random model's nearly one-hot ones.
    private func trainedClassifier() throws -> AudioClassifier {
        try AudioClassifier(checkpoint: Fixtures.url("AudioClassification", "esc10_small_trained.safetensors"))
    }

    /// `samples` as a 16-bit WAV stores and libsndfile reads them back (`round(x * 32767) / 32768`).
    private func quantised(_ samples: [Float]) -> [Float] { samples.map { ($0 * 32767).rounded() / 32768 } }

    /// Tones and noise whose content changes over time, at 22.05 kHz (so every window is resampled).
    private func signal(seconds: Double, rate: Int = 22_050) -> [Float] {
        var generator = SplitMix64(seed: 5)
        return (0..<Int(seconds * Double(rate))).map { i in
            let t = Double(i) / Double(rate)
            let f = 200 + 150 * (t.rounded(.down).truncatingRemainder(dividingBy: 5))
            let noise = Double(generator.next() % 2000) / 2000 - 0.5
            return Float(0.3 * sin(2 * .pi * f * t) + 0.05 * noise)
        }
    }

    private func temporaryWAV(_ samples: [Float], rate: Int) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString).wav")
        try WAVEncoder.pcm16(samples, sampleRate: rate).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Window starts follow the hop, one more window is aligned to the end, and each window's
    /// probabilities are those of its samples classified alone (to float rounding of the
    /// batched forward pass).
    func testWindowsEqualTheirCutsClassifiedAlone() throws {
        let classifier = try trainedClassifier()
        let rate = 22_050
        // Quantised like the 16-bit file below, so the file and the samples hold the same values.
        let samples = quantised(signal(seconds: 12.3))
        let result = try classifier.scan(samples: samples, sampleRate: rate, options: ScanOptions(window: 5, hop: 2.5, batchSize: 3))
        XCTAssertEqual(result.windows.map(\.start), [0, 2.5, 5, 7.3], "hop-spaced, then end-aligned")
        XCTAssertEqual(result.windows.map(\.end).last!, 12.3, accuracy: 1e-9)
        XCTAssertEqual(result.duration, 12.3, accuracy: 1e-9)
        for window in result.windows {
            let cut = Array(samples[Int((window.start * Double(rate)).rounded())..<Int((window.end * Double(rate)).rounded())])
            let alone = try classifier.predict(samples: cut, sampleRate: rate, top: classifier.classes.count)
            for p in alone {
                let index = classifier.classes.firstIndex(of: p.className)!
                XCTAssertEqual(window.probabilities[index], p.confidence, accuracy: 1e-4, "window at \(window.start) s, \(p.className)")
            }
            XCTAssertEqual(window.probabilities.reduce(0, +), 1, accuracy: 1e-4)
        }

        // Streaming the same samples from a file gives the same windows; so does batch size 1.
        let url = try temporaryWAV(samples, rate: rate)
        var reports: [Double] = []
        let streamed = try classifier.scan(contentsOf: url, options: ScanOptions(window: 5, hop: 2.5, batchSize: 3)) { seconds, total in
            reports.append(seconds)
            XCTAssertEqual(total ?? 0, 12.3, accuracy: 1e-3)
        }
        XCTAssertEqual(streamed, result)
        XCTAssertFalse(reports.isEmpty)
        let one = try classifier.scan(samples: samples, sampleRate: rate, options: ScanOptions(window: 5, hop: 2.5, batchSize: 1))
        for (a, b) in zip(one.windows, result.windows) {
            assertAllClose(a.probabilities, b.probabilities, rtol: 1e-5, "batch of 1 vs 3 at \(a.start) s")
        }
    }

    /// A recording shorter than one window is one window: the whole-clip prediction.
    func testShortRecordingIsTheWholeClip() throws {
        let classifier = try trainedClassifier()
        let samples = quantised(signal(seconds: 3.2, rate: 44_100))
        let url = try temporaryWAV(samples, rate: 44_100)
        let result = try classifier.scan(contentsOf: url)
        XCTAssertEqual(result.windows.count, 1)
        XCTAssertEqual(result.windows[0].start, 0)
        XCTAssertEqual(result.windows[0].end, 3.2, accuracy: 1e-9)
        let whole = try classifier.predict(contentsOf: url, top: classifier.classes.count)
        for p in whole {
            XCTAssertEqual(result.windows[0].probabilities[classifier.classes.firstIndex(of: p.className)!], p.confidence, accuracy: 1e-6)
        }
    }

    func testEventsMergeConsecutiveWindowsOfAClass() {
        func window(_ start: Double, _ p: [Float]) -> WindowPrediction { WindowPrediction(start: start, end: start + 5, probabilities: p) }
        let result = ScanResult(
            classes: ["dog", "rain", "siren"], duration: 17.5,
            windows: [
                window(0, [0.7, 0.2, 0.1]), window(2.5, [0.8, 0.1, 0.1]), window(5, [0.2, 0.5, 0.3]),
                window(7.5, [0.6, 0.3, 0.1]), window(10, [0.3, 0.3, 0.4]), window(12.5, [0.1, 0.3, 0.6]),
            ])
        XCTAssertEqual(result.events().map(\.className), ["dog", "dog", "rain", "dog", "siren", "siren"])
        let merged = result.events(merge: true)
        XCTAssertEqual(
            merged,
            [
                SoundEvent(start: 0, end: 7.5, className: "dog", confidence: 0.8, windowCount: 2),
                SoundEvent(start: 5, end: 10, className: "rain", confidence: 0.5, windowCount: 1),
                SoundEvent(start: 7.5, end: 12.5, className: "dog", confidence: 0.6, windowCount: 1),
                SoundEvent(start: 10, end: 17.5, className: "siren", confidence: 0.6, windowCount: 2),
            ])
        // A window below the threshold ends an event; top 2 gives each window its two best classes.
        XCTAssertEqual(result.events(minimumConfidence: 0.55, merge: true).map(\.className), ["dog", "dog", "siren"])
        let two = result.events(top: 2, minimumConfidence: 0.3, merge: true)
        // rain is in the top 2 at >= 0.3 in windows 2-3 and 5 (window 4's runner-up is dog, by
        // the lower index of a tie), so it makes two events.
        XCTAssertEqual(
            two.filter { $0.className == "rain" },
            [
                SoundEvent(start: 5, end: 12.5, className: "rain", confidence: 0.5, windowCount: 2),
                SoundEvent(start: 12.5, end: 17.5, className: "rain", confidence: 0.3, windowCount: 1),
            ])
    }

    func testRowFormats() throws {
        let event = SoundEvent(start: 1.25, end: 6.25, className: "dog, barking", confidence: 0.87654, windowCount: 1)
        XCTAssertEqual(EventTableFormat.csv.header, "start,end,class,confidence,file")
        XCTAssertEqual(EventTableFormat.csv.row(event, file: "a \"b\".wav"), "1.250,6.250,\"dog, barking\",0.8765,\"a \"\"b\"\".wav\"")
        let line = EventTableFormat.jsonl.row(event, file: "dir/x.wav")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["class"] as? String, "dog, barking")
        XCTAssertEqual(object["file"] as? String, "dir/x.wav")
        XCTAssertEqual(object["start"] as? Double, 1.25)
        XCTAssertEqual(object["confidence"] as? Double, 0.8765)
        XCTAssertTrue(line.hasPrefix("{\"start\":1.250,\"end\":6.250,\"class\":"), line)
        let header = try XCTUnwrap(EventTableFormat.raven.header).split(separator: "\t")
        let row = EventTableFormat.raven.row(event, file: "x.wav", selection: 7, nyquist: 22_050).split(separator: "\t")
        XCTAssertEqual(header.count, row.count)
        XCTAssertEqual(Array(header.prefix(4)), ["Begin Time (s)", "End Time (s)", "Class", "Confidence"])
        XCTAssertEqual(row[header.firstIndex(of: "Selection")!], "7")
        XCTAssertEqual(row[header.firstIndex(of: "High Freq (Hz)")!], "22050.0")
        XCTAssertEqual(Array(row.prefix(4)), ["1.250", "6.250", "dog, barking", "0.8765"])
    }

    func testErrorsSayWhatIsWrong() throws {
        let classifier = try randomClassifier()
        func code(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch {
                return "\((error as? InferenceError)?.code ?? "?") \(error)"
            }
        }
        let directory = FileManager.default.temporaryDirectory
        XCTAssertTrue(code { try classifier.scan(contentsOf: directory) }.contains("is a directory"))
        XCTAssertTrue(
            code { try classifier.scan(contentsOf: directory.appendingPathComponent("nope-\(UUID()).wav")) }.contains("no such file"))
        XCTAssertTrue(code { try classifier.scan(contentsOf: URL(fileURLWithPath: "/dev/null")) }.contains("special file"))
        // A valid header and no samples: too short for one frame (not "0 bytes").
        let empty = try temporaryWAV([], rate: 44_100)
        XCTAssertTrue(
            code { try classifier.scan(contentsOf: empty) }.hasPrefix("audio_too_short"), code { try classifier.scan(contentsOf: empty) })
        // A file cut short of its header's length is refused, as the whole-clip path refuses it.
        let whole = WAVEncoder.pcm16(signal(seconds: 2, rate: 44_100), sampleRate: 44_100)
        let cut = directory.appendingPathComponent("cut-\(UUID()).wav")
        try whole.prefix(whole.count - 40_000).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        XCTAssertTrue(
            code { try classifier.predict(contentsOf: cut) }.contains("truncated"), code { try classifier.predict(contentsOf: cut) })
        XCTAssertTrue(code { try classifier.scan(contentsOf: cut) }.contains("truncated"), code { try classifier.scan(contentsOf: cut) })
        let zeroBytes = directory.appendingPathComponent("zero-\(UUID()).wav")
        FileManager.default.createFile(atPath: zeroBytes.path, contents: Data())
        defer { try? FileManager.default.removeItem(at: zeroBytes) }
        XCTAssertTrue(code { try classifier.scan(contentsOf: zeroBytes) }.hasPrefix("empty_audio"))
        let samples = signal(seconds: 1)
        XCTAssertTrue(
            code { try classifier.scan(samples: samples, sampleRate: 22_050, options: ScanOptions(window: 0)) }.hasPrefix(
                "invalid_scan_options"))
        XCTAssertTrue(
            code { try classifier.scan(samples: samples, sampleRate: 22_050, options: ScanOptions(hop: .nan)) }.hasPrefix(
                "invalid_scan_options"))
        XCTAssertTrue(
            code { try classifier.scan(samples: samples, sampleRate: 22_050, options: ScanOptions(batchSize: 0)) }.hasPrefix(
                "invalid_scan_options"))
        var bad = samples
        bad[10_000] = .nan
        XCTAssertTrue(
            code { try classifier.scan(samples: bad + samples, sampleRate: 22_050, options: ScanOptions(window: 1, hop: 1)) }.hasPrefix(
                "non_finite_audio"))
    }

    /// A 60-s recording: real ESC-50 clips the trained checkpoint classifies correctly on their
    /// own, placed at known offsets with silence between; the scan finds each clip's class in
    /// the window that covers it.
    func testFindsRealClipsAtTheirOffsetsInALongRecording() throws {
        guard let esc50 = Fixtures.esc50Directory else {
            throw XCTSkip("../shared/esc50 is absent: the long-recording check needs the shared ESC-50 clips")
        }
        let classifier = try AudioClassifier(checkpoint: Fixtures.url("AudioClassification", "esc10_small_trained.safetensors"))
        // Fold-4 clips (held out when the checkpoint was trained) that it classifies right, one per class.
        let csv = try String(contentsOf: esc50.appendingPathComponent("meta/esc50.csv"), encoding: .utf8)
        var chosen: [(file: URL, category: String)] = []
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            guard f[1] == "4", f[4] == "True", !chosen.contains(where: { $0.category == f[3] }) else { continue }
            let url = esc50.appendingPathComponent("audio/\(f[0])")
            guard let top = try classifier.predict(contentsOf: url, top: 1).first, top.className == f[3], top.confidence > 0.6 else {
                continue
            }
            chosen.append((url, f[3]))
            if chosen.count == 4 { break }
        }
        XCTAssertEqual(chosen.count, 4, "the checkpoint classifies too few fold-4 clips correctly")
        let offsets = [3.0, 17.0, 31.0, 47.0]
        var recording = [Float](repeating: 0, count: 60 * 44_100)
        for ((url, _), offset) in zip(chosen, offsets) {
            let clip = try AudioFile(contentsOf: url)
            let at = Int(offset * 44_100)
            recording.replaceSubrange(at..<(at + clip.samples.count), with: clip.samples)
        }
        let url = try temporaryWAV(recording, rate: 44_100)
        let result = try classifier.scan(contentsOf: url, options: ScanOptions(window: 5, hop: 1))
        XCTAssertEqual(result.windows.count, 56)
        for ((_, category), offset) in zip(chosen, offsets) {
            // The window that starts where the clip starts holds exactly the clip.
            let window = try XCTUnwrap(result.windows.first { abs($0.start - offset) < 1e-9 })
            XCTAssertEqual(classifier.classes[window.topIndices(1)[0]], category, "at \(offset) s")
            let events = result.events(minimumConfidence: 0.5, merge: true).filter { $0.className == category }
            XCTAssertTrue(
                events.contains { $0.start <= offset + 1e-9 && $0.end >= offset + 5 - 1e-9 }, "\(category) at \(offset) s: \(events)")
        }
    }
}

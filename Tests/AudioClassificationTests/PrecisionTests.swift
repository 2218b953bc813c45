import AudioDSP
import Foundation
import TensorKit
import XCTest
import _TestSupport
@testable import AudioClassification

/// `AudioClassifier(precision:)`: the default is float32 and bit-identical to a float32 forward
/// pass whatever the caller's TensorKit configuration; `.bfloat16` runs every forward pass
/// (predict, analyze, scan) at bfloat16 and agrees with float32 on the trained ESC-10 model.
final class PrecisionTests: XCTestCase {
    private let trained = Fixtures.url("AudioClassification", "esc10_small_trained.safetensors")

    /// Tones, a chirp and noise at 22.05 kHz (so the front end resamples), different per seed.
    private func signal(seconds: Double, seed: UInt64, rate: Int = 22_050) -> [Float] {
        var generator = SplitMix64(seed: seed)
        let f0 = 150 + Double(seed % 7) * 110, sweep = Double(seed % 5) * 300
        return (0..<Int(seconds * Double(rate))).map { i in
            let t = Double(i) / Double(rate)
            let noise = Double(generator.next() % 2000) / 2000 - 0.5
            return Float(0.3 * sin(2 * .pi * (f0 * t + sweep * t * t / seconds)) + 0.1 * sin(2 * .pi * 3 * f0 * t) + 0.05 * noise)
        }
    }

    /// The logits of `classifier`'s model for `samples`, computed outside the classifier with
    /// `precision` set explicitly.
    private func logits(_ classifier: AudioClassifier, _ samples: [Float], rate: Int, precision: AudioClassifier.Precision) throws
        -> [Float]
    {
        let prepared = try classifier.prepare(samples: samples, sampleRate: rate, resampler: nil)
        let spec = prepared.spectrogram
        let x = try Tensor(shape: [1, 1, spec.rowCount, spec.frameCount], scalars: spec.values)
        return KernelConfiguration.withCurrent(changing: { $0.precision = precision }) { withNoGrad { classifier.model(x) } }.scalars
    }

    /// Every class's probability, in class order.
    private func probabilities(_ predictions: [Prediction], classes: [String]) -> [Float] {
        classes.map { name in predictions.first { $0.className == name }!.confidence }
    }

    func testDefaultIsFloat32WhateverTheCallersConfiguration() throws {
        let classifier = try AudioClassifier(checkpoint: trained)
        XCTAssertEqual(classifier.precision, .float32)
        let samples = signal(seconds: 3, seed: 1), k = classifier.classes.count
        let plain = try classifier.predict(samples: samples, sampleRate: 22_050, top: k)
        let expected = classifier.topPredictions(
            try Tensor(shape: [1, k], scalars: logits(classifier, samples, rate: 22_050, precision: .float32)), top: k)
        XCTAssertEqual(plain, expected, "the default is a float32 forward pass, bit for bit")
        // A caller (or TENSORKIT_PRECISION) asking for bfloat16 does not change a float32 classifier.
        let underBF16 = try KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) {
            try classifier.predict(samples: samples, sampleRate: 22_050, top: k)
        }
        XCTAssertEqual(underBF16, plain)
    }

    /// predict, analyze and scan of a `.bfloat16` classifier compute exactly what its model
    /// computes with TensorKit's precision set to bfloat16 (and a caller's float32 setting does
    /// not change that).
    func testBFloat16ClassifierRunsEveryForwardPassAtBFloat16() throws {
        let classifier = try AudioClassifier(checkpoint: trained, precision: .bfloat16)
        XCTAssertEqual(classifier.precision, .bfloat16)
        let rate = 22_050, samples = signal(seconds: 5, seed: 2), k = classifier.classes.count
        let expected = classifier.topPredictions(
            try Tensor(shape: [1, k], scalars: logits(classifier, samples, rate: rate, precision: .bfloat16)), top: k)
        XCTAssertEqual(try classifier.predict(samples: samples, sampleRate: rate, top: k), expected)
        let underFP32 = try KernelConfiguration.withCurrent(changing: { $0.precision = .float32 }) {
            try classifier.predict(samples: samples, sampleRate: rate, top: k)
        }
        XCTAssertEqual(underFP32, expected)
        XCTAssertEqual(try classifier.analyze(samples: samples, sampleRate: rate, top: k).predictions, expected)
        // One window of the whole recording: the scan's batched forward pass at bfloat16 too.
        let scan = try classifier.scan(samples: samples, sampleRate: rate, options: ScanOptions(window: 5, hop: 5, batchSize: 1))
        XCTAssertEqual(scan.windows.count, 1)
        XCTAssertEqual(scan.windows[0].probabilities, probabilities(expected, classes: classifier.classes))
    }

    /// bfloat16 against float32 with the small model trained on ESC-10 (spread probabilities,
    /// unlike the random model's): the same top class and every class probability within 0.05,
    /// on synthetic clips and, when ../shared/esc50 is present, on ESC-10's fold 4 (held out
    /// from that model's training).
    func testBFloat16AgreesWithFloat32() throws {
        let fp32 = try AudioClassifier(checkpoint: trained)
        let bf16 = try AudioClassifier(checkpoint: trained, precision: .bfloat16)
        let classes = fp32.classes, k = classes.count
        var compared = 0, agreed = 0, largest: Float = 0
        func compare(_ a: [Prediction], _ b: [Prediction], _ name: String) {
            compared += 1
            if a[0].className == b[0].className { agreed += 1 }
            let pa = probabilities(a, classes: classes), pb = probabilities(b, classes: classes)
            for (i, (x, y)) in zip(pa, pb).enumerated() {
                largest = max(largest, abs(x - y))
                XCTAssertEqual(y, x, accuracy: 0.05, "\(name): \(classes[i])")
            }
        }
        for seed in UInt64(1)...6 {
            let samples = signal(seconds: 5, seed: seed)
            let a = try fp32.predict(samples: samples, sampleRate: 22_050, top: k)
            compare(a, try bf16.predict(samples: samples, sampleRate: 22_050, top: k), "synthetic clip \(seed)")
        }
        XCTAssertEqual(agreed, compared, "top-1 of every synthetic clip")
        guard let esc50 = Fixtures.esc50Directory else {
            throw XCTSkip("../shared/esc50 is absent: compared \(compared) synthetic clips only (largest difference \(largest))")
        }
        let rows = try String(contentsOf: esc50.appendingPathComponent("meta/esc50.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",").map(String.init) }
        let fold4 = rows.filter { $0.count >= 5 && $0[1] == "4" && $0[4] == "True" }.map { $0[0] }
        XCTAssertEqual(fold4.count, 80)
        let (synthetic, syntheticAgreed) = (compared, agreed)
        for file in fold4 {
            let url = esc50.appendingPathComponent("audio/\(file)")
            compare(try fp32.predict(contentsOf: url, top: k), try bf16.predict(contentsOf: url, top: k), file)
        }
        let real = compared - synthetic, realAgreed = agreed - syntheticAgreed
        // The bar: top-1 agrees on at least 99% of the clips (here: on all 80).
        XCTAssertGreaterThanOrEqual(Double(realAgreed), (0.99 * Double(real)).rounded(.up), "top-1 agreed on \(realAgreed) of \(real)")
        print("bf16 vs fp32: top-1 agreed on \(agreed) of \(compared) clips; largest probability difference \(largest)")
    }
}

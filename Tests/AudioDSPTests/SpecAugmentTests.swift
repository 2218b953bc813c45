import Foundation
import XCTest
import AudioDSP

/// SplitMix64 against Vigna's reference outputs, and SpecAugment against torchaudio's
/// documented `mask_along_axis` semantics (distributions checked statistically).
final class SpecAugmentTests: XCTestCase {
    func testSplitMix64ReferenceVectors() {
        // splitmix64.c (Vigna), seed 1234567: the published first five outputs.
        var rng = SplitMix64(seed: 1_234_567)
        XCTAssertEqual(
            (0..<5).map { _ in rng.next() },
            [
                6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
            ])
        var zero = SplitMix64(seed: 0)
        XCTAssertEqual(zero.next(), 16_294_208_416_658_607_535)
        var unit = SplitMix64(seed: 7)
        for _ in 0..<1_000 { let u = unit.nextUnitDouble(); XCTAssertTrue(u >= 0 && u < 1) }
    }

    private func ramp(rows: Int = 128, frames: Int = 431) -> Spectrogram {
        try! Spectrogram(rowCount: rows, frameCount: frames, values: (0..<rows * frames).map { Float($0 % 97) + 1 })
    }

    func testMasksAreFullBandsAndFramesWithTheValue() throws {
        var spec = ramp()
        let original = spec
        var rng = SplitMix64(seed: 3)
        let masks = try SpecAugment(maskValue: .constant(-7)).apply(to: &spec, using: &rng)
        let f = masks.frequency[0], t = masks.time[0]
        for r in 0..<128 {
            for c in 0..<431 {
                let masked = f.contains(r) || t.contains(c)
                XCTAssertEqual(spec[r, c], masked ? -7 : original[r, c])
            }
        }
    }

    func testMeanMaskValue() throws {
        var spec = ramp(rows: 16, frames: 40)
        let mean = spec.values.reduce(0, +) / Float(spec.values.count)
        var rng = SplitMix64(seed: 11)
        var masks: (frequency: [Range<Int>], time: [Range<Int>]) = ([], [])
        while masks.frequency.first?.isEmpty ?? true {
            spec = ramp(rows: 16, frames: 40)
            masks = try SpecAugment(frequencyMaskParameter: 8, timeMaskParameter: 10, maskValue: .mean)
                .apply(to: &spec, using: &rng)
        }
        XCTAssertEqual(spec[masks.frequency[0].lowerBound, 0], mean, accuracy: 1e-4)
    }

    func testWidthAndStartDistributionsFollowTorchaudio() {
        // torchaudio: w = U*param, s = U*(size - w), masked [trunc(s), trunc(s) + trunc(w)).
        // So the width is uniform on 0..<param and the mask never leaves the axis.
        var rng = SplitMix64(seed: 2_024)
        let draws = 60_000, param = 30, size = 128
        var widthCounts = [Int](repeating: 0, count: param + 1)
        var startSum = 0.0
        for _ in 0..<draws {
            let m = SpecAugment.drawMask(parameter: param, size: size, using: &rng)
            XCTAssertTrue(m.lowerBound >= 0 && m.upperBound <= size)
            widthCounts[m.count] += 1
            startSum += Double(m.lowerBound)
        }
        XCTAssertEqual(widthCounts[param], 0, "width never reaches the parameter")
        let expected = Double(draws) / Double(param)
        for w in 0..<param {
            XCTAssertEqual(Double(widthCounts[w]), expected, accuracy: 5 * expected.squareRoot(), "width \(w)")
        }
        // E[s] = E[U] * (size - E[w]) = 0.5 * (128 - 15) = 56.5; trunc lowers it by ~0.5.
        XCTAssertEqual(startSum / Double(draws), 56.0, accuracy: 0.5)
    }

    func testParameterLargerThanAxisStaysInside() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<10_000 {
            let m = SpecAugment.drawMask(parameter: 80, size: 20, using: &rng)
            XCTAssertTrue(m.lowerBound >= 0 && m.upperBound <= 20 && m.lowerBound <= m.upperBound)
        }
    }

    func testSameSeedSameMasksDifferentSeedDifferent() throws {
        func run(_ seed: UInt64) throws -> Spectrogram {
            var spec = ramp()
            var rng = SplitMix64(seed: seed)
            try SpecAugment(frequencyMaskCount: 2, timeMaskCount: 2).apply(to: &spec, using: &rng)
            return spec
        }
        XCTAssertEqual(try run(99), try run(99))
        let distinct = Set(try (0..<8).map { try run($0).values })
        XCTAssertGreaterThan(distinct.count, 4)
    }

    func testBufferSliceMatchesSpectrogramAndChecksShape() throws {
        var spec = ramp(rows: 16, frames: 40)
        var buffer = spec.values
        var rngA = SplitMix64(seed: 21), rngB = SplitMix64(seed: 21)
        let augment = SpecAugment(frequencyMaskParameter: 8, timeMaskParameter: 10)
        let masksA = try augment.apply(to: &spec, using: &rngA)
        let masksB = try buffer.withUnsafeMutableBufferPointer {
            try augment.apply(to: $0, rowCount: 16, frameCount: 40, using: &rngB)
        }
        XCTAssertEqual(masksA.frequency, masksB.frequency)
        XCTAssertEqual(masksA.time, masksB.time)
        XCTAssertEqual(buffer, spec.values)
        XCTAssertThrowsError(
            try buffer.withUnsafeMutableBufferPointer {
                try augment.apply(to: $0, rowCount: 16, frameCount: 41, using: &rngB)
            }
        ) { error in
            XCTAssertEqual(error as? DSPError, .shapeMismatch(expected: "16 x 41 = 656 values", got: "640 values"))
        }
    }

    func testNegativeParametersThrow() {
        var spec = ramp(rows: 4, frames: 4)
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try SpecAugment(timeMaskParameter: -1).apply(to: &spec, using: &rng)) { error in
            XCTAssertEqual(error as? DSPError, .invalidParameter(name: "timeMaskParameter", value: "-1", expected: ">= 0"))
        }
    }
}

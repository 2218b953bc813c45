import Foundation
import XCTest
import _TestSupport
@testable import TensorKit

/// The safetensors reader never crashes: seeded mutants of valid files either open, and then
/// every tensor reads back through every accessor, or fail with a ``SafeTensorsError``.
final class SafeTensorsFuzzTests: XCTestCase {
    private func seeds() throws -> [[UInt8]] {
        var a = SafeTensorsWriter(metadata: ["format": "pt", "note": "caf\u{E9} \"quoted\""])
        try a.add("weight", shape: [2, 3], floats: [1, -2, 3.5, .nan, .infinity, 0])
        try a.add("half", shape: [3], floats: [0.5, -1, 65_504], as: .f16)
        try a.add("bf", shape: [1, 2], floats: [1e30, -3], as: .bf16)
        try a.add("count", shape: [], int64s: [Int64.min])
        try a.add("bytes", dtype: .u8, shape: [4], bytes: [0, 1, 254, 255])
        try a.add("empty", shape: [0, 5], floats: [])
        var b = SafeTensorsWriter()
        try b.add("x", shape: [1], floats: [42])
        return [
            a.serialized(), b.serialized(),
            [UInt8](try Data(contentsOf: Fixtures.url("ResNetAudio", "small_eval.safetensors")).prefix(4_096)),
        ]
    }

    func testSeededMutantsOpenAndReadOrGiveASafeTensorsError() throws {
        let seeds = try seeds()
        XCTAssertNoThrow(try SafeTensorsFile(bytes: seeds[0]))
        var mutator = Mutator(seed: 0x5AFE_7E45)
        var opened = 0, rejected = 0
        for step in 0..<5_000 {
            let input = mutator.mutant(of: seeds)
            do {
                let file = try SafeTensorsFile(bytes: input, source: "mutant \(step)")
                for entry in file.entries {
                    XCTAssertEqual(try file.floats(entry.name).count, entry.elementCount)
                    XCTAssertEqual(try file.doubles(entry.name).count, entry.elementCount)
                    XCTAssertEqual(try file.tensor(entry.name).shape, entry.shape)
                    _ = try? file.int64s(entry.name)
                }
                opened += 1
            } catch {
                XCTAssertFalse(error.description.isEmpty)
                rejected += 1
            }
        }
        XCTAssertGreaterThan(opened, 15, "mutants must also reach the accessors")
        XCTAssertGreaterThan(rejected, 100)
    }
}

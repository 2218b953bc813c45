import Foundation
import ResNetAudio
import TensorKit
import Training
import XCTest
import _TestSupport

/// What a run leaves when it is killed or runs out of disk, and that `--resume` recovers from it
/// to the weights of an uninterrupted run. Scripts/kill-trials.sh does the same with SIGKILL on
/// the `audiocnn train` process; these tests reproduce the file states it can leave.
final class CrashRecoveryTests: XCTestCase {
    private let epochs = 3

    private func trainer(_ out: URL) throws -> Trainer {
        try Trainer(
            configuration: TinyData.configuration(epochs: epochs), model: .small(classes: 6),
            data: TinyData.data(), outputDirectory: out)
    }

    private func assertSameFloats(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let fa = try SafeTensorsFile(contentsOf: a), fb = try SafeTensorsFile(contentsOf: b)
        XCTAssertEqual(Set(fa.names), Set(fb.names), file: file, line: line)
        for name in fa.names where fa[name]!.dtype == .f32 {
            XCTAssertEqual(try fa.floats(name), try fb.floats(name), "\(name) differs", file: file, line: line)
        }
    }

    /// A kill after the state of epoch 2 was committed but before best/last were written leaves
    /// `last.safetensors` at epoch 1 (plus the temporary file of the interrupted write). The
    /// resume rewrites `last` at epoch 2, deletes the temporary file, and finishes with the
    /// uninterrupted run's weights bit for bit.
    func testKillBetweenStateCommitAndCheckpointWrites() throws {
        let straight = TinyData.freshDirectory("straight")
        try trainer(straight).run()

        let killed = TinyData.freshDirectory("killed"), ahead = TinyData.freshDirectory("ahead")
        try trainer(killed).run(stopAfterEpoch: 1)
        try trainer(ahead).run(stopAfterEpoch: 2)
        let state = "last.train-state.safetensors"
        let fm = FileManager.default
        try fm.removeItem(at: killed.appendingPathComponent(state))
        try fm.copyItem(at: ahead.appendingPathComponent(state), to: killed.appendingPathComponent(state))
        try Data(repeating: 7, count: 1000).write(to: killed.appendingPathComponent(".last.safetensors.4242.17.tmp"))
        XCTAssertEqual(try Checkpoint.metadata(at: killed.appendingPathComponent("last.safetensors")).epoch, 1)

        // Resuming with nothing left to train still repairs the checkpoints.
        try trainer(killed).run(resume: true, stopAfterEpoch: 2)
        XCTAssertEqual(temporaryFiles(in: killed), [])
        XCTAssertEqual(try Checkpoint.metadata(at: killed.appendingPathComponent("last.safetensors")).epoch, 2)
        try assertSameFloats(killed.appendingPathComponent("last.safetensors"), ahead.appendingPathComponent("last.safetensors"))

        let summary = try trainer(killed).run(resume: true)
        XCTAssertTrue(summary.finished)
        XCTAssertEqual(summary.history.count, epochs)
        try assertSameFloats(killed.appendingPathComponent("last.safetensors"), straight.appendingPathComponent("last.safetensors"))
        try assertSameFloats(killed.appendingPathComponent("best.safetensors"), straight.appendingPathComponent("best.safetensors"))
    }

    /// A run whose state file has the earlier format (no `model.` weights, no classes) still
    /// resumes, from the weights in `last.safetensors`, to the uninterrupted run's weights.
    func testStateFileOfTheEarlierFormatStillResumes() throws {
        let straight = TinyData.freshDirectory("straight-old")
        try trainer(straight).run()
        let out = TinyData.freshDirectory("old-format")
        try trainer(out).run(stopAfterEpoch: 1)
        let stateURL = out.appendingPathComponent("last.train-state.safetensors")
        let current = try SafeTensorsFile(contentsOf: stateURL)
        var old = SafeTensorsWriter()
        old.metadata = current.metadata.filter { $0.key != "classes" }
        for name in current.names where !name.hasPrefix("model.") { try old.add(name, tensor: try current.tensor(name)) }
        XCTAssertTrue(current.names.contains { $0.hasPrefix("model.") })
        try old.write(to: stateURL)
        XCTAssertFalse(try SafeTensorsFile(contentsOf: stateURL).names.contains { $0.hasPrefix("model.") })

        XCTAssertTrue(try trainer(out).run(resume: true).finished)
        try assertSameFloats(out.appendingPathComponent("last.safetensors"), straight.appendingPathComponent("last.safetensors"))
    }

    /// Out of space while committing epoch 2 (a file-size limit makes `write(2)` fail with EFBIG,
    /// as a full disk fails it with ENOSPC): the error names the state file and the cause, no
    /// temporary file is left, epoch 1's files still load, and a resume once there is room again
    /// ends with the uninterrupted run's weights.
    func testOutOfSpaceWhileCommittingAnEpoch() throws {
        let straight = TinyData.freshDirectory("straight-space")
        try trainer(straight).run()

        let out = TinyData.freshDirectory("full")
        try trainer(out).run(stopAfterEpoch: 1)
        let stateURL = out.appendingPathComponent("last.train-state.safetensors")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: stateURL.path)[.size] as? Int)
        try withFileSizeLimit(size / 2) {
            XCTAssertThrowsError(try trainer(out).run(resume: true)) { error in
                guard case TrainingError.io(let path, let reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, stateURL.path)
                XCTAssertTrue(reason.contains(String(cString: strerror(EFBIG))), reason)
            }
        }
        XCTAssertEqual(temporaryFiles(in: out), [])
        XCTAssertEqual(try Checkpoint.load(from: out.appendingPathComponent("last.safetensors")).metadata.epoch, 1)

        let summary = try trainer(out).run(resume: true)
        XCTAssertTrue(summary.finished)
        try assertSameFloats(out.appendingPathComponent("last.safetensors"), straight.appendingPathComponent("last.safetensors"))
    }
}

import Foundation
import XCTest
import _TestSupport
@testable import TensorKit

/// Learning-rate (and momentum) sequences against torch.optim.lr_scheduler, recorded after
/// construction and after every step by Scripts/fixtures/make_tensorkit_optim_fixtures.py.
final class LRSchedulerTests: XCTestCase {
    private func fixture() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: Fixtures.url("TensorKit", "schedulers.safetensors"))
    }

    private func parameters() -> [Parameter] { [Parameter(Tensor(zeros: [1]))] }

    /// Records the optimiser's lr and momentum after creation and after each of `steps` steps.
    private func run(_ optimizer: any Optimizer, _ scheduler: any LRScheduler, steps: Int) throws -> ([Double], [Double]) {
        var lrs = [optimizer.learningRate], momenta = [optimizer.momentum]
        for _ in 0..<steps {
            try scheduler.step()
            lrs.append(optimizer.learningRate)
            momenta.append(optimizer.momentum)
        }
        return (lrs, momenta)
    }

    private func assertSequence(_ ours: [Double], _ torch: [Double], _ what: String, line: UInt = #line) {
        XCTAssertEqual(ours.count, torch.count, what, line: line)
        for (t, (a, b)) in zip(ours, torch).enumerated() {
            // Same double-precision formulas as PyTorch; only libm's cos may differ in the last bit.
            XCTAssertEqual(a, b, accuracy: 1e-13 * max(abs(b), 1e-300), "\(what) at step \(t)", line: line)
        }
    }

    func testOneCycleDefaultsWithAdamWCyclesBeta1() throws {
        let file = try fixture()
        let optimizer = try AdamW(parameters(), learningRate: 1e-3)
        let scheduler = try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.01, totalSteps: 100)
        XCTAssertEqual(optimizer.learningRate, 0.01 / 25, accuracy: 1e-15)  // set on creation, as PyTorch
        XCTAssertEqual(optimizer.beta1, 0.95)
        let (lrs, momenta) = try run(optimizer, scheduler, steps: 100)
        assertSequence(lrs, try file.doubles("onecycle_adamw.lr"), "lr")
        assertSequence(momenta, try file.doubles("onecycle_adamw.momentum"), "beta1")
        XCTAssertEqual(optimizer.beta2, 0.999)  // only beta1 cycles
        XCTAssertThrowsError(try scheduler.step()) { error in
            XCTAssertEqual(error as? LRSchedulerError, .stepsExceeded(step: 101, totalSteps: 100))
        }
    }

    func testOneCycleThreePhaseLinearWithSGDMomentum() throws {
        let file = try fixture()
        let optimizer = try SGD(parameters(), learningRate: 0.1, momentum: 0.9)
        let scheduler = try OneCycleLR(
            optimizer: optimizer, maxLearningRate: 0.4, totalSteps: 37, pctStart: 0.25,
            annealStrategy: .linear, baseMomentum: 0.8, maxMomentum: 0.9,
            divFactor: 10, finalDivFactor: 100, threePhase: true)
        let (lrs, momenta) = try run(optimizer, scheduler, steps: 37)
        assertSequence(lrs, try file.doubles("onecycle_sgd_linear_3phase.lr"), "lr")
        assertSequence(momenta, try file.doubles("onecycle_sgd_linear_3phase.momentum"), "momentum")
    }

    func testOneCycleWithoutMomentumCyclingLeavesBeta1() throws {
        let file = try fixture()
        let optimizer = try Adam(parameters(), learningRate: 1e-3, beta2: 0.99)
        let scheduler = try OneCycleLR(optimizer: optimizer, maxLearningRate: 3e-3, epochs: 4, stepsPerEpoch: 13, cycleMomentum: false)
        let (lrs, momenta) = try run(optimizer, scheduler, steps: 52)
        assertSequence(lrs, try file.doubles("onecycle_adam_epochs_nomomentum.lr"), "lr")
        assertSequence(momenta, try file.doubles("onecycle_adam_epochs_nomomentum.momentum"), "beta1")
    }

    func testCosineAnnealingPastTMax() throws {
        let file = try fixture()
        let optimizer = try SGD(parameters(), learningRate: 0.05, momentum: 0.9)
        let scheduler = try CosineAnnealingLR(optimizer: optimizer, tMax: 30, etaMin: 1e-4)
        let (lrs, _) = try run(optimizer, scheduler, steps: 100)
        let torch = try file.doubles("cosine.lr")
        XCTAssertEqual(lrs.count, torch.count)
        for (t, (a, b)) in zip(lrs, torch).enumerated() {
            // The recursive form cancels near eta_min; compare on the scale of the base rate there.
            XCTAssertEqual(a, b, accuracy: 1e-12 * 0.05, "cosine lr at step \(t)")
        }
    }

    func testStepLR() throws {
        let file = try fixture()
        let optimizer = try Adam(parameters(), learningRate: 0.02)
        let scheduler = try StepLR(optimizer: optimizer, stepSize: 7, gamma: 0.5)
        let (lrs, _) = try run(optimizer, scheduler, steps: 50)
        assertSequence(lrs, try file.doubles("step.lr"), "lr")
    }

    func testSchedulerStateRoundTripsThroughAFile() throws {
        func make() throws -> (Adam, [any LRScheduler]) {
            let optimizer = try AdamW(parameters(), learningRate: 0.01)
            return (optimizer, [try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.01, totalSteps: 50)])
        }
        let (reference, referenceSchedulers) = try make()
        for _ in 0..<17 { try referenceSchedulers[0].step() }
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tk-sched-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try referenceSchedulers[0].stateDict().write(to: url)

        let (resumed, schedulers) = try make()
        try schedulers[0].loadStateDict(OptimizationState(contentsOf: url))
        XCTAssertEqual(schedulers[0].lastEpoch, 17)
        XCTAssertEqual(resumed.learningRate, reference.learningRate)
        XCTAssertEqual(resumed.beta1, reference.beta1)
        for _ in 17..<50 {
            try referenceSchedulers[0].step()
            try schedulers[0].step()
            XCTAssertEqual(resumed.learningRate, reference.learningRate)
        }

        // Cosine and step restore the rate they set.
        let cosineOptimizer = try SGD(parameters(), learningRate: 0.1)
        let cosine = try CosineAnnealingLR(optimizer: cosineOptimizer, tMax: 10)
        for _ in 0..<4 { cosine.step() }
        let saved = cosine.stateDict()
        let freshOptimizer = try SGD(parameters(), learningRate: 0.1)
        let fresh = try CosineAnnealingLR(optimizer: freshOptimizer, tMax: 10)
        try fresh.loadStateDict(saved)
        cosine.step()
        fresh.step()
        XCTAssertEqual(freshOptimizer.learningRate, cosineOptimizer.learningRate)
        XCTAssertEqual(fresh.lastEpoch, 5)
    }

    func testMismatchedSchedulerStateIsRejected() throws {
        let optimizer = try SGD(parameters(), learningRate: 0.1, momentum: 0.9)
        let oneCycle = try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 10)
        let step = try StepLR(optimizer: optimizer, stepSize: 3)
        XCTAssertThrowsError(try oneCycle.loadStateDict(step.stateDict())) { error in
            guard case LRSchedulerError.stateMismatch(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("StepLR"))
        }
        let longer = try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 20)
        XCTAssertThrowsError(try oneCycle.loadStateDict(longer.stateDict()))
        var bad = oneCycle.stateDict()
        bad.scalars["last_epoch"] = 2.5
        XCTAssertThrowsError(try oneCycle.loadStateDict(bad))
        bad.scalars["last_epoch"] = nil
        XCTAssertThrowsError(try oneCycle.loadStateDict(bad)) { error in
            XCTAssertEqual(error as? LRSchedulerError, .stateMismatch("missing scalar \"last_epoch\""))
        }
    }

    func testInvalidArgumentsAreRejected() throws {
        let optimizer = try SGD(parameters(), learningRate: 0.1)
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 0))
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 10, pctStart: 1.5))
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: -1, totalSteps: 10))
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 10, divFactor: 0))
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, epochs: 0, stepsPerEpoch: 5))
        // pctStart * totalSteps == 1 leaves the first phase empty (PyTorch: ZeroDivisionError at step 0).
        XCTAssertThrowsError(try OneCycleLR(optimizer: optimizer, maxLearningRate: 0.1, totalSteps: 10, pctStart: 0.1)) { error in
            guard case LRSchedulerError.invalidArgument("pctStart", _, let expected) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(expected.contains("step 0"), expected)
        }
        XCTAssertThrowsError(try CosineAnnealingLR(optimizer: optimizer, tMax: 0))
        XCTAssertThrowsError(try StepLR(optimizer: optimizer, stepSize: 0))
        XCTAssertThrowsError(try StepLR(optimizer: optimizer, stepSize: 2, gamma: -1)) { error in
            guard case LRSchedulerError.invalidArgument("gamma", -1, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(optimizer.learningRate, 0.1)
    }
}

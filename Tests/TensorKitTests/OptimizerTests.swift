import Foundation
import XCTest
import _TestSupport
@testable import TensorKit

/// The optimisers replay gradients recorded from PyTorch training a small CNN
/// (Scripts/fixtures/make_tensorkit_optim_fixtures.py) and must produce torch.optim's parameters
/// after every step, and torch's own optimiser state at the end.
final class OptimizerTests: XCTestCase {
    /// |ours - torch| <= rtol * |torch| + atol, per element. The absolute term covers elements
    /// that cancel to near zero, where a few float32 ulps of the ~1e-2 update (torch's vectorised
    /// kernels fuse some multiply-adds) are a large fraction of the value.
    static let rtol: Float = 1e-5
    static let atol: Float = 1e-7

    struct Trajectory {
        let file: SafeTensorsFile
        let names: [String]
        let steps: Int

        init(_ name: String) throws {
            file = try SafeTensorsFile(contentsOf: Fixtures.url("TensorKit", "optim_\(name).safetensors"))
            names = file.metadata["parameters"]!.split(separator: ",").map(String.init)
            steps = Int(file.metadata["steps"]!)!
        }

        func initialParameters() throws -> [Parameter] {
            try names.map { Parameter(try file.tensor("init.\($0)")) }
        }

        /// Sets each parameter's gradient for step `t` (nil where torch had none).
        func setGradients(_ parameters: [Parameter], step t: Int) throws {
            for (name, parameter) in zip(names, parameters) {
                parameter.grad = file["grad.\(t).\(name)"] == nil ? nil : try file.tensor("grad.\(t).\(name)")
            }
        }
    }

    static func assertClose(
        _ ours: Tensor, _ torch: Tensor, _ what: String, rtol: Float = rtol, atol: Float = atol,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(ours.shape, torch.shape, what, file: file, line: line)
        var worst: Float = 0
        var worstIndex = 0
        for (i, (a, b)) in zip(ours.scalars, torch.scalars).enumerated() {
            let excess = abs(a - b) - (rtol * abs(b) + atol)
            if excess > worst || a.isNaN { worst = a.isNaN ? .infinity : excess; worstIndex = i }
        }
        XCTAssertEqual(
            worst, 0, "\(what): element \(worstIndex) is \(ours.scalars[worstIndex]), torch \(torch.scalars[worstIndex])",
            file: file, line: line)
    }

    /// Runs the whole trajectory and checks parameters, learning rate and momentum every step.
    func replay(
        _ name: String, momentumChecked: Bool = true,
        make: ([Parameter]) throws -> any Optimizer,
        schedule: ((any Optimizer) throws -> any LRScheduler)? = nil
    ) throws {
        let trajectory = try Trajectory(name)
        let parameters = try trajectory.initialParameters()
        let optimizer = try make(parameters)
        let scheduler = try schedule?(optimizer)
        let lrs = try trajectory.file.doubles("lr")
        let momenta = try trajectory.file.doubles("momentum")
        for t in 0..<trajectory.steps {
            try trajectory.setGradients(parameters, step: t)
            XCTAssertEqual(optimizer.learningRate, lrs[t], accuracy: 1e-15 * max(1, lrs[t]), "\(name) lr at step \(t)")
            if momentumChecked {
                XCTAssertEqual(optimizer.momentum, momenta[t], accuracy: 1e-15, "\(name) momentum at step \(t)")
            }
            try optimizer.step()
            try scheduler?.step()
            for (n, parameter) in zip(trajectory.names, parameters) {
                OptimizerTests.assertClose(parameter.value, try trajectory.file.tensor("param.\(t).\(n)"), "\(name) step \(t) \(n)")
            }
        }
        // torch's own state after the last step, under the same names.
        let state = optimizer.stateDict()
        let torchKeys = trajectory.file.names.filter { $0.hasPrefix("state.") }
        XCTAssertFalse(torchKeys.isEmpty && name != "sgd")
        XCTAssertEqual(Set(state.tensors.keys), Set(torchKeys), name)
        for key in torchKeys {
            guard let ours = state.tensors[key] else { continue }
            let torch = try trajectory.file.tensor(key)
            OptimizerTests.assertClose(ours, torch, "\(name) \(key)")
        }
    }

    func testSGD() throws {
        try replay("sgd", momentumChecked: false) { try SGD($0, learningRate: 0.05) }
    }

    func testSGDMomentumWeightDecayAndSkippedGradient() throws {
        try replay("sgd_momentum_wd") { try SGD($0, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3) }
    }

    func testSGDNesterov() throws {
        try replay("sgd_nesterov") { try SGD($0, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }
    }

    func testSGDDampeningMaximize() throws {
        try replay("sgd_dampening_maximize") { try SGD($0, learningRate: 0.01, momentum: 0.5, dampening: 0.2, maximize: true) }
    }

    func testAdamWithL2PenaltyAndSkippedGradient() throws {
        try replay("adam") { try Adam($0, learningRate: 1e-2, weightDecay: 1e-2) }
    }

    func testAdamAMSGrad() throws {
        try replay("adam_amsgrad") { try Adam($0, learningRate: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, amsgrad: true) }
    }

    func testAdamWDecoupledWeightDecayAndSkippedGradient() throws {
        try replay("adamw") { try AdamW($0, learningRate: 1e-2, weightDecay: 0.05) }
    }

    func testAdamWUnderOneCycleLR() throws {
        try replay(
            "adamw_onecycle", make: { try AdamW($0, learningRate: 1e-3, weightDecay: 1e-2) },
            schedule: { try OneCycleLR(optimizer: $0, maxLearningRate: 0.01, totalSteps: 10) })
    }

    func testSGDNesterovUnderOneCycleLRCyclesMomentum() throws {
        try replay(
            "sgd_onecycle", make: { try SGD($0, learningRate: 1e-3, momentum: 0.9, nesterov: true) },
            schedule: { try OneCycleLR(optimizer: $0, maxLearningRate: 0.1, totalSteps: 10) })
    }

    /// A parameter large enough for the update to be split over threads.
    func testLargeParameterMatchesTorch() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.url("TensorKit", "optim_adamw_large.safetensors"))
        let n = Int(file.metadata["n"]!)!, steps = Int(file.metadata["steps"]!)!
        // The same exact integer formulas as the script (every value is a float32 rounding of an
        // exactly computed double).
        let initial = (0..<n).map { Float(Double((($0 * 7919) % 1000) - 500) / 1000.0) }
        let parameter = Parameter(try Tensor(shape: [n], scalars: initial))
        let optimizer = try AdamW([parameter], learningRate: 0.01, weightDecay: 0.1)
        for t in 0..<steps {
            parameter.grad = try Tensor(shape: [n], scalars: (0..<n).map { Float(Double((($0 * 31 + t * 17) % 997) - 498) / 5000.0) })
            try optimizer.step()
        }
        OptimizerTests.assertClose(parameter.value, try file.tensor("param"), "large AdamW")
    }

    // MARK: State save and restore

    /// Runs `steps` of a trajectory, checkpoints optimiser (and scheduler) through a safetensors
    /// file, restores into fresh objects in the given order, and checks that the continuation is
    /// bit-identical to an uninterrupted run and still matches torch.
    func checkContinuation(
        _ name: String, split: Int, restoreSchedulerFirst: Bool = false,
        make: ([Parameter]) throws -> any Optimizer,
        schedule: ((any Optimizer) throws -> any LRScheduler)? = nil
    ) throws {
        let trajectory = try Trajectory(name)
        let reference = try trajectory.initialParameters()
        let referenceOptimizer = try make(reference)
        let referenceScheduler = try schedule?(referenceOptimizer)
        var checkpoint: URL?
        let resumed = try trajectory.initialParameters()
        for t in 0..<trajectory.steps {
            try trajectory.setGradients(reference, step: t)
            try referenceOptimizer.step()
            try referenceScheduler?.step()
            if t == split - 1 {
                var writer = SafeTensorsWriter()
                for (n, p) in zip(trajectory.names, reference) { try writer.add("model.\(n)", tensor: p.value) }
                try referenceOptimizer.stateDict().add(to: &writer, prefix: "optimizer.")
                try referenceScheduler?.stateDict().add(to: &writer, prefix: "scheduler.")
                let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tk-\(name)-\(UUID().uuidString).safetensors")
                try writer.write(to: url)
                checkpoint = url
            }
        }
        defer { if let checkpoint { try? FileManager.default.removeItem(at: checkpoint) } }

        let file = try SafeTensorsFile(contentsOf: XCTUnwrap(checkpoint))
        for (n, p) in zip(trajectory.names, resumed) { p.value = try file.tensor("model.\(n)") }
        let optimizer = try make(resumed)
        let scheduler = try schedule?(optimizer)
        let optimizerState = try OptimizationState(from: file, prefix: "optimizer.")
        if restoreSchedulerFirst, let scheduler { try scheduler.loadStateDict(OptimizationState(from: file, prefix: "scheduler.")) }
        try optimizer.loadStateDict(optimizerState)
        if !restoreSchedulerFirst, let scheduler { try scheduler.loadStateDict(OptimizationState(from: file, prefix: "scheduler.")) }
        for t in split..<trajectory.steps {
            try trajectory.setGradients(resumed, step: t)
            try optimizer.step()
            try scheduler?.step()
        }
        XCTAssertEqual(optimizer.learningRate, referenceOptimizer.learningRate)
        XCTAssertEqual(optimizer.momentum, referenceOptimizer.momentum)
        for (n, (a, b)) in zip(trajectory.names, zip(resumed, reference)) {
            XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), "\(name) \(n) after resuming")
            OptimizerTests.assertClose(a.value, try trajectory.file.tensor("param.\(trajectory.steps - 1).\(n)"), "\(name) \(n) vs torch")
        }
    }

    func testAdamWOneCycleStateRoundTripContinuesIdentically() throws {
        try checkContinuation(
            "adamw_onecycle", split: 4, make: { try AdamW($0, learningRate: 1e-3, weightDecay: 1e-2) },
            schedule: { try OneCycleLR(optimizer: $0, maxLearningRate: 0.01, totalSteps: 10) })
        try checkContinuation(
            "adamw_onecycle", split: 7, restoreSchedulerFirst: true,
            make: { try AdamW($0, learningRate: 1e-3, weightDecay: 1e-2) },
            schedule: { try OneCycleLR(optimizer: $0, maxLearningRate: 0.01, totalSteps: 10) })
    }

    func testAdamStateWithSkippedParameterContinuesIdentically() throws {
        // Split right after the step where fc.weight had no gradient: its step count differs.
        try checkContinuation("adam", split: 4) { try Adam($0, learningRate: 1e-2, weightDecay: 1e-2) }
        try checkContinuation("adam_amsgrad", split: 5) {
            try Adam($0, learningRate: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, amsgrad: true)
        }
    }

    func testSGDStateContinuesIdentically() throws {
        try checkContinuation("sgd_momentum_wd", split: 5) { try SGD($0, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3) }
        try checkContinuation(
            "sgd_onecycle", split: 3, make: { try SGD($0, learningRate: 1e-3, momentum: 0.9, nesterov: true) },
            schedule: { try OneCycleLR(optimizer: $0, maxLearningRate: 0.1, totalSteps: 10) })
    }

    func testStateSavedByTorchLoads() throws {
        // torch's AdamW state after 10 steps, flattened by the fixture script, restores into ours.
        let trajectory = try Trajectory("adamw")
        var tensors: [String: Tensor] = [:]
        for name in trajectory.file.names where name.hasPrefix("state.") { tensors[name] = try trajectory.file.tensor(name) }
        let state = OptimizationState(
            kind: "AdamW", tensors: tensors,
            scalars: [
                "lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.05, "amsgrad": 0, "maximize": 0,
            ])
        let optimizer = try AdamW(try trajectory.initialParameters(), learningRate: 1e-2, weightDecay: 0.05)
        try optimizer.loadStateDict(state)
        XCTAssertEqual(optimizer.stateDict().tensors["state.0.step"]?.scalar, 10)
        XCTAssertEqual(optimizer.stateDict().tensors["state.1.step"]?.scalar, 9)  // conv.bias skipped once
    }

    // MARK: Errors

    func testInvalidHyperparametersAreRejected() {
        let p = [Parameter(Tensor(zeros: [2]))]
        func rejects(_ name: String, _ body: () throws -> Any, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                guard case OptimizerError.invalidHyperparameter(let n, _, _) = error else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(n, name, line: line)
            }
        }
        rejects("learningRate") { try SGD(p, learningRate: -1) }
        rejects("momentum") { try SGD(p, momentum: -0.1) }
        rejects("momentum") { try SGD(p, nesterov: true) }
        rejects("dampening") { try SGD(p, momentum: 0.9, dampening: 0.1, nesterov: true) }
        rejects("weightDecay") { try SGD(p, weightDecay: -1) }
        rejects("beta1") { try Adam(p, beta1: 1) }
        rejects("beta2") { try AdamW(p, beta2: -0.5) }
        rejects("eps") { try Adam(p, eps: -1) }
        rejects("learningRate") { try AdamW(p, learningRate: .nan) }
        XCTAssertThrowsError(try SGD(p + p)) { XCTAssertEqual($0 as? OptimizerError, .duplicateParameter(index: 1)) }
    }

    func testGradientOfTheWrongShapeChangesNothing() throws {
        let a = Parameter(try Tensor(shape: [2], scalars: [1, 2]))
        let b = Parameter(try Tensor(shape: [3], scalars: [1, 2, 3]))
        a.grad = try Tensor(shape: [2], scalars: [1, 1])
        b.grad = try Tensor(shape: [1, 3], scalars: [1, 1, 1])
        let optimizer = try Adam([a, b])
        XCTAssertThrowsError(try optimizer.step()) { error in
            XCTAssertEqual(error as? OptimizerError, .gradientShapeMismatch(parameter: 1, parameterShape: [3], gradientShape: [1, 3]))
        }
        XCTAssertEqual(a.value.scalars, [1, 2])
        XCTAssertTrue(optimizer.stateDict().tensors.isEmpty)
    }

    func testMismatchedStateIsRejectedAndChangesNothing() throws {
        let p = [Parameter(Tensor(zeros: [2])), Parameter(Tensor(zeros: [3]))]
        for parameter in p { parameter.grad = Tensor(repeating: 0.5, shape: parameter.shape) }
        let adam = try Adam(p, learningRate: 0.1)
        try adam.step()
        let saved = adam.stateDict()

        XCTAssertThrowsError(try AdamW(p).loadStateDict(saved)) { error in
            guard case OptimizerError.stateMismatch(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("Adam"))
        }
        XCTAssertThrowsError(try Adam(p, beta2: 0.99).loadStateDict(saved))
        XCTAssertThrowsError(try Adam(p, amsgrad: true).loadStateDict(saved))
        XCTAssertThrowsError(try SGD(p).loadStateDict(saved))
        // Shapes that do not fit.
        let other = try Adam([Parameter(Tensor(zeros: [2])), Parameter(Tensor(zeros: [4]))], learningRate: 0.5)
        XCTAssertThrowsError(try other.loadStateDict(saved)) { error in
            guard case OptimizerError.stateMismatch(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("state.1.exp_avg"), reason)
        }
        XCTAssertEqual(other.learningRate, 0.5)
        XCTAssertTrue(other.stateDict().tensors.isEmpty)
        // Indices beyond the parameter list.
        let single = try Adam([Parameter(Tensor(zeros: [2]))])
        XCTAssertThrowsError(try single.loadStateDict(saved)) { error in
            guard case OptimizerError.stateMismatch(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("parameter 1"), reason)
        }
    }

    func testEmptyParametersStepWithoutTrouble() throws {
        let empty = Parameter(Tensor(zeros: [0, 3]))
        let other = Parameter(try Tensor(shape: [2], scalars: [1, -1]))
        for optimizer in [try SGD([empty, other], learningRate: 0.5, momentum: 0.9), try AdamW([empty, other]) as any Optimizer] {
            other.value = try Tensor(shape: [2], scalars: [1, -1])
            empty.grad = Tensor(zeros: [0, 3])
            other.grad = try Tensor(shape: [2], scalars: [1, 1])
            try optimizer.step()
            XCTAssertEqual(empty.value.shape, [0, 3])
            XCTAssertLessThan(other.value.scalars[0], 1)
        }
    }

    func testOptimizationStateFileErrorsNameTheProblem() throws {
        var writer = SafeTensorsWriter(metadata: ["optimizer.kind": "SGD", "optimizer.scalar.lr": "fast"])
        try writer.add("model.w", shape: [1], floats: [1])
        let file = try SafeTensorsFile(bytes: writer.serialized())
        XCTAssertThrowsError(try OptimizationState(from: file, prefix: "optimizer.")) { error in
            guard case SafeTensorsError.invalidMetadata(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("optimizer.scalar.lr") && reason.contains("fast"), reason)
        }
        XCTAssertThrowsError(try OptimizationState(from: file, prefix: "scheduler.")) { error in
            guard case SafeTensorsError.invalidMetadata(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("scheduler.kind"), reason)
        }
        // A model tensor read as optimiser state is refused by the optimiser, not misapplied.
        let state = OptimizationState(
            kind: "SGD", tensors: ["model.w": Tensor([1])],
            scalars: ["lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": 0, "maximize": 0])
        XCTAssertThrowsError(try SGD([Parameter(Tensor(zeros: [1]))]).loadStateDict(state)) { error in
            guard case OptimizerError.stateMismatch(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("model.w"), reason)
        }
    }

    func testZeroGradClearsEveryGradient() throws {
        let p = [Parameter(Tensor(zeros: [2])), Parameter(Tensor(zeros: [1]))]
        for parameter in p { parameter.grad = Tensor(repeating: 1, shape: parameter.shape) }
        let optimizer = try SGD(p, learningRate: 0.1)
        optimizer.zeroGrad()
        XCTAssertTrue(p.allSatisfy { $0.grad == nil })
    }
}

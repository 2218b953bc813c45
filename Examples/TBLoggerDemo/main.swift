// Writes a small TensorBoard run with every kind of summary TBLogger supports.
// `Scripts/check_tensorboard.py` reads it back with TensorBoard's own EventAccumulator and checks
// every value, so the formulas below are mirrored there: change both together.
//
// Usage: TBLoggerDemo <logdir>      then: tensorboard --logdir <logdir>
//        TBLoggerDemo --crash <logdir>   logs 20 points, waits past the flush interval and
//                                        aborts without close(): the points must be on disk.
import Foundation
import TBLogger

let arguments = CommandLine.arguments
guard arguments.count == 2 || (arguments.count == 3 && arguments[1] == "--crash") else {
    FileHandle.standardError.write(Data("usage: TBLoggerDemo [--crash] <logdir>\n".utf8))
    exit(2)
}
let logdir = arguments[arguments.count - 1]

if arguments.count == 3 {
    let writer = try SummaryWriter(logdir: logdir, flushInterval: 0.2)
    for step in 0..<20 { try writer.addScalar("Loss/Train", Float(step) / 8, step: step) }
    Thread.sleep(forTimeInterval: 1)
    abort()
}

do {
    let writer = try SummaryWriter(logdir: logdir, flushInterval: 1)

    // The tags the reference training writes, one point per epoch.
    for epoch in 0..<50 {
        let e = Double(epoch)
        try writer.addScalar("Loss/Train", 2.5 * exp(-e / 12) + 0.05, step: epoch)
        try writer.addScalar("Loss/Validation", 2.6 * exp(-e / 14) + 0.12, step: epoch)
        try writer.addScalar("Accuracy/Validation", 0.9 * (1 - exp(-e / 10)), step: epoch)
        try writer.addScalar("Learning_rate", 0.0005 * (1 + cos(Double.pi * e / 50)) / 2, step: epoch)
        try writer.addScalars("Loss", ["train": 1 / (e + 1), "validation": 1.5 / (e + 1)], step: epoch)
    }

    // Four threads logging at once: every point must arrive, in step order per tag.
    DispatchQueue.concurrentPerform(iterations: 4) { thread in
        for step in 0..<1000 {
            try! writer.addScalar("Threads/t\(thread)", Float(thread * 10_000 + step), step: step)
        }
    }

    // Histograms: a deterministic spread of weights, and values that hit the zero bucket.
    let weights = (0..<1000).map { (i: Int) -> Float in
        let wave: Double = sin(Double(i) * 0.37) * 3
        return Float(wave + Double(i % 7) * 0.01)
    }
    try writer.addHistogram("Weights/conv1", weights, step: 3)
    try writer.addHistogram("Weights/sparse", [0, 0, 0, 1e-13, -2, 5, 5, 7.25], step: 4)

    // Images: a greyscale gradient (one stored block) and an RGB pattern (several blocks).
    let grey = (0..<(20 * 32)).map { (i: Int) -> UInt8 in UInt8((i % 32) * 7 + i / 32) }
    try writer.addImage("Images/gradient", SummaryImage(width: 32, height: 20, channels: .greyscale, pixels: grey), step: 0)
    var rgb = [UInt8]()
    for y in 0..<250 {
        for x in 0..<300 {
            rgb.append(UInt8(x % 256))
            rgb.append(UInt8(y % 256))
            rgb.append(UInt8((x * y) % 256))
        }
    }
    try writer.addImage("Images/pattern", SummaryImage(width: 300, height: 250, channels: .rgb, pixels: rgb), step: 1)

    try writer.addText("Notes", "ESC-50 run with **TBLogger**: ünïcode ✓", step: 0)

    try writer.addHParams(
        ["lr": 0.001, "optimizer": "adamw", "mixup": true, "batch_size": 32],
        metrics: ["hparam/accuracy": 0.8125], runName: "hparams")
    try writer.close()
    print("wrote \(writer.eventFilePath)")
} catch {
    FileHandle.standardError.write(Data("TBLoggerDemo: \(error)\n".utf8))
    exit(1)
}

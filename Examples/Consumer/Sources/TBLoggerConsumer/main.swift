// TBLogger alone: a TensorBoard event file with one scalar curve.
//   TBLoggerConsumer LOGDIR
import Foundation
import TBLogger

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: TBLoggerConsumer LOGDIR\n".utf8))
    exit(2)
}
do {
    let writer = try SummaryWriter(logdir: CommandLine.arguments[1])
    for step in 0..<10 { try writer.addScalar("loss", Float(1) / Float(step + 1), step: step) }
    try writer.close()
    let size = (try FileManager.default.attributesOfItem(atPath: writer.eventFilePath)[.size] as? Int) ?? 0
    print("\(writer.eventFilePath): \(size) bytes")
    exit(size > 0 ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("TBLoggerConsumer: \(error)\n".utf8))
    exit(1)
}

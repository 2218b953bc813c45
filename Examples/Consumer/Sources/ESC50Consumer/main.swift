// ESC50 alone: read an ESC-50 folder's metadata and count its clips per fold.
//   ESC50Consumer ESC50_DIR
import ESC50
import Foundation

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: ESC50Consumer ESC50_DIR\n".utf8))
    exit(2)
}
do {
    let dataset = try SoundDataset(directory: URL(fileURLWithPath: CommandLine.arguments[1]))
    let esc10 = try dataset.esc10Subset()
    let perFold = try dataset.folds.map { try dataset.clips(inFolds: [$0]).count }
    print(
        "\(perFold.reduce(0, +)) clips in folds \(dataset.folds), per fold \(perFold); "
            + "ESC-10: \(try esc10.clips(inFolds: esc10.folds).count) clips of \(esc10.classes.count) classes")
    exit(perFold.reduce(0, +) > 0 ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("ESC50Consumer: \(error)\n".utf8))
    exit(1)
}

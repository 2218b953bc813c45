import ArgumentParser
import ESC50
import Foundation

/// `audiocnn dataset`: check a data set in the ESC-50 layout and summarise it.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Validate a data set in the ESC-50 layout and print its classes and folds.",
        discussion: """
            Reads meta/esc50.csv (errors name the file and line: missing columns, bad folds, \
            mislabelled rows, duplicate or missing clips) and, with --verify, decodes every clip.
            """
    )

    @Option(help: "The data set folder (holding audio/ and meta/esc50.csv).")
    var data: String

    @Flag(help: "Decode every clip (on all cores) to check that each one is readable.")
    var verify = false

    @Flag(help: "Describe only the ESC-10 subset.")
    var esc10 = false

    func run() throws {
        var dataset = try ESC50Dataset(directory: URL(fileURLWithPath: data))
        if esc10 { dataset = try dataset.esc10Subset() }
        if verify { try dataset.verifyClips() }
        print("\(dataset.root.path): \(dataset.clips.count) clips, \(dataset.classes.count) classes\(verify ? ", all decoded" : "")")
        for fold in dataset.folds {
            let clips = try dataset.clips(inFolds: [fold])
            let perClass = Dictionary(grouping: clips, by: \.category).mapValues(\.count)
            let counts = Set(perClass.values)
            let balance = counts.count == 1 ? "\(counts.first!) per class" : "\(counts.min()!)-\(counts.max()!) per class"
            print("  fold \(fold): \(clips.count) clips, \(perClass.count) classes, \(balance)")
        }
        print("classes (label: name):")
        for (label, name) in dataset.classes.enumerated() { print(String(format: "  %3d  ", label) + name) }
    }
}

import ArgumentParser
import ESC50
import Foundation

/// `audiocnn dataset`: check a data set and summarise it.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Validate a data set (ESC-50 or UrbanSound8K layout, or class folders) and print its classes and folds.",
        discussion: """
            Reads the metadata (or the class folders) and lists every problem it finds: rows with \
            bad fields, duplicate rows, label mismatches, missing files; with --verify it also \
            decodes every clip and lists unreadable, unsupported, empty, too short and non-finite \
            ones, and classes absent from a fold. Each line names the file and, for CSV layouts, \
            the CSV line; a count per kind follows. Exits with status 1 when there is an error.
            """
    )

    @OptionGroup var source: DatasetOptions

    @Option(name: .customLong("folds"), help: "Same as --split-folds.")
    var folds: Int?

    @Flag(help: "Decode every clip (on all cores) and list every problem.")
    var verify = false

    @Flag(help: "Describe only the ESC-10 subset.")
    var esc10 = false

    @Option(name: .customLong("val-fold"), help: "The fold you will validate on: a class absent from it gets its own warning.")
    var valFold: Int?

    func run() throws {
        var dataset = try source.read(folds: folds)
        if esc10 { dataset = try dataset.esc10Subset() }
        let report = verify ? DatasetOptions.verify(dataset, validationFold: valFold) : nil
        let problems = report?.problems ?? dataset.problems
        for problem in problems { print(problem) }
        print(
            "\(dataset.root.path) (\(dataset.layout.rawValue) layout): \(dataset.clips.count) clips, \(dataset.classes.count) classes"
                + (report.map { $0.hasErrors ? "" : ", all decoded" } ?? ""))
        for fold in dataset.folds {
            let clips = try dataset.clips(inFolds: [fold])
            let perClass = Dictionary(grouping: clips, by: \.category).mapValues(\.count)
            let counts = Set(perClass.values)
            let balance = counts.count == 1 ? "\(counts.first!) per class" : "\(counts.min()!)-\(counts.max()!) per class"
            print("  fold \(fold): \(clips.count) clips, \(perClass.count) classes, \(balance)")
        }
        print("classes (label: name):")
        for (label, name) in dataset.classes.enumerated() { print(String(format: "  %3d  ", label) + name) }
        let summary = report?.summary ?? DatasetReport(problems: problems, clipCount: dataset.clips.count).summary
        print((verify ? "" : "not decoded (pass --verify to decode every clip); ") + summary)
        if problems.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
    }
}

import ArgumentParser

/// `audiocnn bench …`: speed measurements (release builds only give meaningful numbers).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of the suite's hot paths.",
        subcommands: [
            BenchMelCommand.self,
            BenchTBLogCommand.self,
            BenchLoaderCommand.self,
            BenchConvCommand.self,
            BenchGEMMCommand.self,
            BenchPeakCommand.self,
            BenchOptimCommand.self,
            BenchTrainCommand.self,
            BenchInferCommand.self,
            BenchServeCommand.self,
        ]
    )
}

import ArgumentParser

/// `audiocnn`: train, evaluate, serve and inspect ESC-50 audio classifiers.
@main
struct AudioCNNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audiocnn",
        abstract: "ESC-50 audio classification on the CPU: spectrograms, training, inference, serving.",
        version: "0.1.0",
        subcommands: [
            DownloadCommand.self,
            DatasetCommand.self,
            Bench.self,
            SpectrogramCommand.self,
            PredictCommand.self,
            ServeCommand.self,
            TrainCommand.self,
            EvaluateCommand.self,
            CrossValidateCommand.self,
            DemoCommand.self,
        ]
    )
}

/// `audiocnn bench …`: speed measurements (release builds only give meaningful numbers).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the speed of the suite's hot paths.",
        subcommands: [
            BenchMelCommand.self,
            BenchTBLog.self,
            BenchLoader.self,
            BenchConv.self,
            BenchGEMM.self,
            BenchOptim.self,
            Train.self,
            Infer.self,
            BenchServe.self,
        ]
    )
}

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
            BenchCommand.self,
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

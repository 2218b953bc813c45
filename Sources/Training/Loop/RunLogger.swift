import ESC50
import Foundation
import TBLogger

/// The TensorBoard side of a run: the reference's scalars every epoch (`Loss/Train`,
/// `Loss/Validation`, `Accuracy/Validation`, `Learning_rate`), the validation confusion matrix
/// as an image, the first training inputs as spectrogram images, the configuration as text and
/// the hyper-parameters for the HParams dashboard.
///
/// A logging failure must not lose hours of training, so each call keeps the first error and
/// goes on; ``close()`` throws it.
final class RunLogger {
    private let writer: SummaryWriter
    private var firstError: SummaryWriterError?

    /// - Parameter resumingAt: the first step (epoch index) of a resumed session: TensorBoard then
    ///   drops what an interrupted session logged from that step on (it logs an epoch just before
    ///   committing it), so each epoch shows once.
    init(directory: URL, resumingAt: Int? = nil) throws(TrainingError) {
        do {
            writer = try SummaryWriter(logdir: directory, purgeStep: resumingAt)
        } catch {
            throw .io(path: directory.path, reason: "cannot open the TensorBoard log: \(error)")
        }
    }

    private func attempt(_ body: () throws(SummaryWriterError) -> Void) {
        do { try body() } catch { if firstError == nil { firstError = error } }
    }

    func logText(_ text: String, tag: String = "Configuration") {
        attempt { () throws(SummaryWriterError) in try writer.addText(tag, text, step: 0) }
    }

    func logEpoch(_ report: EpochReport, confusion: ConfusionMatrix, step: Int) {
        attempt { () throws(SummaryWriterError) in
            try writer.addScalar("Loss/Train", report.trainLoss, step: step)
            try writer.addScalar("Loss/Validation", report.validationLoss, step: step)
            try writer.addScalar("Accuracy/Validation", report.validationAccuracy, step: step)
            try writer.addScalar("Learning_rate", report.learningRate, step: step)
            try writer.addImage("Confusion_matrix/Validation", confusion.image(), step: step)
            try writer.flush()
        }
    }

    /// Up to four inputs of the first training batch, as the network sees them (augmented).
    func logInputs(_ batch: Batch, classes: [String]) {
        let mels = batch.shape[2], frames = batch.shape[3], stride = mels * frames
        attempt { () throws(SummaryWriterError) in
            for i in 0..<min(4, batch.count) {
                let values = Array(batch.features[(i * stride)..<((i + 1) * stride)])
                let image = try SummaryImage(width: frames, height: mels, normalizing: values).verticallyFlipped()
                try writer.addImage("Input/\(i)_\(classes[batch.labels[i]])", image, step: 0)
            }
        }
    }

    func logHyperParameters(_ values: [String: HParamValue], metrics: [String: Double]) {
        attempt { () throws(SummaryWriterError) in try writer.addHParams(values, metrics: metrics, runName: "hparams") }
    }

    func close() throws(TrainingError) {
        attempt { () throws(SummaryWriterError) in try writer.close() }
        if let firstError { throw .io(path: writer.logdir, reason: "TensorBoard logging failed: \(firstError)") }
    }
}

/// Accuracies of a k-fold cross-validation (each fold held out once), summarised.
public struct CrossValidationSummary: Sendable, Equatable {
    /// One accuracy per held-out fold, in `[0, 1]`.
    public var accuracies: [Double]

    /// A summary of `accuracies`.
    public init(accuracies: [Double]) { self.accuracies = accuracies }

    /// The mean accuracy; 0 when there is none.
    public var mean: Double {
        accuracies.isEmpty ? 0 : accuracies.reduce(0, +) / Double(accuracies.count)
    }

    /// The sample standard deviation (divisor `n − 1`, as `statistics.stdev` and
    /// `numpy.std(ddof=1)`); 0 for fewer than two folds.
    public var standardDeviation: Double {
        guard accuracies.count > 1 else { return 0 }
        let m = mean
        let squares = accuracies.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (squares / Double(accuracies.count - 1)).squareRoot()
    }
}

/// Whether operations record autograd history (the default) or not.
public enum GradMode {
    /// `true` unless inside `withNoGrad { … }`. Task-local, so concurrent tasks do not interfere.
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording autograd history: results never require gradients and no
/// buffers are kept for a backward pass. Use it for inference and for optimiser updates.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

/// The `async` form of `withNoGrad { … }`.
public func withNoGrad<R>(_ body: () async throws -> R) async rethrows -> R {
    try await GradMode.$isEnabled.withValue(false, operation: body)
}

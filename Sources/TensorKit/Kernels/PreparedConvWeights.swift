import _Locking

/// The filters of one frozen convolution in the forms TensorKit's kernels consume, each made on
/// first use and then kept: the Winograd-domain matrices for 3×3 stride-1 layers, the filter
/// matrix packed for the GEMM kernel for the im2col path, and the plain filters where neither
/// applies (no TensorKit kernel on this CPU, or a differentiable pass through the layer).
///
/// Why: a frozen layer (``FoldedConv2d``) multiplies by the same filters on every call, and at
/// batch 1 transforming or re-packing them each time streams the whole filter bank through the
/// cache once more per call. Memory is traded for that: each form is about the size of the
/// filters (the Winograd one 16/9 of it), and a layer keeps only the forms its inputs used.
///
/// The filters are kept as given (typically sharing the layer parameter's buffer) together with
/// a per-output-channel factor (a folded batch norm's `γ/√(var+ε)`), which each form applies as
/// it is made, so the scaled filters themselves exist only if the plain form is asked for.
final class PreparedConvWeights: @unchecked Sendable {
    /// `[O, C, kH, kW]`, before `outputScale`; never written.
    private let source: Tensor
    /// Factor of each output channel's filter, or `nil` for 1.
    private let outputScale: [Float]?
    private let plain = Locked<Tensor?>(nil)
    /// The Winograd filters in each form asked for (``form(_:)``): packed for TensorKit's AVX-512
    /// GEMM at each precision, for its AVX2 one, and plain (for OpenBLAS, which the portable
    /// kernels also use at bfloat16, rounding per product).
    private let winograd = Locked<[String: Winograd.Filters]>([:])
    /// The F(4×4, 3×3) filters in each form, or `.none` where F(4×4) does not run.
    private let winograd4x4 = Locked<[String: Winograd.Filters?]>([:])
    /// The filter matrix packed for TensorKit's GEMM at each precision.
    private let packed = Locked<[KernelConfiguration.Precision: BLAS.PackedMatrix]>([:])

    init(_ weight: Tensor, outputScale: [Float]?) {
        precondition(weight.rank == 4, "PreparedConvWeights: filters must be [O, C, kH, kW], got \(weight.shape)")
        precondition(
            outputScale.map { $0.count == weight.shape[0] } ?? true,
            "PreparedConvWeights: \(outputScale?.count ?? 0) scale factors for \(weight.shape[0]) output channels")
        source = weight
        self.outputScale = outputScale
    }

    /// The filters with the output scale applied, `[O, C, kH, kW]`.
    func filters() -> Tensor {
        plain.withLock { cached in
            if let cached { return cached }
            let f = scaled()
            cached = f
            return f
        }
    }

    /// The forward Winograd filters (the layer must be 3×3).
    /// They are packed for TensorKit's GEMM (at the current precision) when the current
    /// ``KernelConfiguration`` uses it, and plain otherwise (portable kernels); each form is
    /// made once, when first asked for, so callers with different configurations do not
    /// rebuild each other's.
    func winogradFilters() -> Winograd.Filters {
        let key = Self.form(.current)
        return winograd.withLock { cached in
            if let form = cached[key] { return form }
            // The transform is linear in each filter, so the scale is applied to its rows.
            let u = Winograd.Filters.prepared(
                source.pointer, outChannels: source.shape[0], inChannels: source.shape[1],
                rowScale: outputScale)
            cached[key] = u
            return u
        }
    }

    /// Which form of the filters `configuration` multiplies with: packed for the AVX-512 GEMM at
    /// its precision, packed for the AVX2 one, or plain.
    private static func form(_ configuration: KernelConfiguration) -> String {
        if configuration.usesTensorKitGEMM { return "avx512 \(configuration.precision)" }
        return configuration.usesAVX2GEMM ? "avx2" : "plain \(configuration.usesAVX2Winograd && configuration.precision == .float32)"
    }

    /// The F(4×4, 3×3) forward filters (the layer must be 3×3), packed for TensorKit's GEMM at the
    /// current precision (AVX2 set: packed for its kernel, or plain for OpenBLAS), made on first
    /// use; `nil` where F(4×4) does not run (callers then take F(2×2, 3×3)).
    func winogradFilters4x4() -> Winograd.Filters? {
        let key = Self.form(.current)
        return winograd4x4.withLock { cached in
            if let form = cached[key] { return form }
            let u = Winograd.Filters.prepared4x4(
                source.pointer, outChannels: source.shape[0], inChannels: source.shape[1], rowScale: outputScale)
            cached[key] = .some(u)
            return u
        }
    }

    /// The filter matrix `W[O × C·kH·kW]` packed for TensorKit's GEMM at the current precision,
    /// or `nil` when that kernel is not in use in the current ``KernelConfiguration``.
    func packedFilters() -> BLAS.PackedMatrix? {
        let configuration = KernelConfiguration.current
        guard configuration.usesTensorKitGEMM else { return nil }
        return packed.withLock { cached in
            if let form = cached[configuration.precision] { return form }
            let k = source.count / source.shape[0]
            // The scaled filters, if made only for packing, are a temporary.
            let w = plain.withLock { $0 } ?? scaled()
            let p = withExtendedLifetime(w) { BLAS.pack(.none, m: source.shape[0], k: k, a: w.pointer, lda: k) }
            cached[configuration.precision] = p
            return p
        }
    }

    /// A new tensor of the scaled filters (the source itself without a scale).
    private func scaled() -> Tensor {
        outputScale.map { Conv2d.scalingFilters(source, by: $0) } ?? source
    }
}

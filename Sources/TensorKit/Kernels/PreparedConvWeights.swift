import Synchronization

/// The filters of one frozen convolution in the forms TensorKit's kernels consume, each made on
/// first use and then kept: the Winograd-domain matrices for 3×3 stride-1 layers, and the
/// filter matrix packed for the GEMM kernel for the im2col path.
///
/// Why: a frozen layer (``FoldedConv2d``) multiplies by the same filters on every call, and at
/// batch 1 transforming or re-packing them each time streams the whole filter bank through the
/// cache once more per call. Memory is traded for that: each form is about the size of the
/// filters (the Winograd one 16/9 of it), and a layer keeps only the forms its inputs used.
final class PreparedConvWeights: @unchecked Sendable {
    /// `[O, C, kH, kW]`; immutable (the owner never writes to it).
    private let weight: Tensor
    private let winograd = Mutex<Winograd.Filters?>(nil)
    /// `.some(nil)` once packing was found unavailable (no TensorKit kernel here).
    private let packed = Mutex<BLAS.PackedMatrix??>(nil)

    init(_ weight: Tensor) {
        precondition(weight.rank == 4, "PreparedConvWeights: filters must be [O, C, kH, kW], got \(weight.shape)")
        self.weight = weight
    }

    /// The forward Winograd filters (the layer must be 3×3).
    func winogradFilters() -> Winograd.Filters {
        winograd.withLock { cached in
            if let cached { return cached }
            let u = Winograd.Filters.prepared(weight.pointer, outChannels: weight.shape[0], inChannels: weight.shape[1])
            cached = u
            return u
        }
    }

    /// The filter matrix `W[O × C·kH·kW]` packed for TensorKit's GEMM, or `nil` when that
    /// kernel is not in use here.
    func packedFilters() -> BLAS.PackedMatrix? {
        packed.withLock { cached in
            if let cached { return cached }
            let k = weight.shape[1] * weight.shape[2] * weight.shape[3]
            let p = BLAS.pack(.none, m: weight.shape[0], k: k, a: weight.pointer, lda: k)
            cached = .some(p)
            return p
        }
    }
}

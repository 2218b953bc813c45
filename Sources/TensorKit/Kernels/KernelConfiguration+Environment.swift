import Foundation

/// The one place TensorKit reads its `TENSORKIT_*` environment variables.
extension KernelConfiguration {
    /// The configuration `environment` describes, starting from ``init()``'s defaults; values
    /// that do not parse are ignored with a warning on standard error.
    public init(environment: [String: String]) {
        self.init()
        func positive(_ name: String) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let n = Int(text), n > 0 else {
                Self.warn("\(name)=\(text) is not a positive integer; ignored")
                return nil
            }
            return n
        }
        switch environment["TENSORKIT_KERNELS"]?.lowercased() {
        case nil, "", "auto": break
        case "portable": kernelSet = .portable
        case "avx512":
            if !Self.isAVX512Available {
                let fallback = Self.isAVX2Available ? "AVX2" : "portable"
                Self.warn("TENSORKIT_KERNELS=avx512: this CPU has no AVX-512; using the \(fallback) kernels")
            }
        case "avx2":
            kernelSet = .avx2
            if !Self.isAVX2Available { Self.warn("TENSORKIT_KERNELS=avx2: this CPU has no AVX2/FMA; using the portable kernels") }
        case let other?: Self.warn("TENSORKIT_KERNELS=\(other) is not one of auto, avx512, avx2, portable; ignored")
        }
        switch environment["TENSORKIT_GEMM"]?.lowercased() {
        case nil, "", "tensorkit": break
        case "openblas": gemm = .openBLAS
        case let other?: Self.warn("TENSORKIT_GEMM=\(other) is not one of tensorkit, openblas; ignored")
        }
        switch environment["TENSORKIT_PRECISION"]?.lowercased() {
        case nil, "", "fp32", "float32": break
        case "bf16", "bfloat16":
            precision = .bfloat16
            if !Self.isBFloat16Available {
                Self.warn("TENSORKIT_PRECISION=bf16: this CPU has no AVX512_BF16; bfloat16 is emulated (slower than fp32)")
            }
        case let other?: Self.warn("TENSORKIT_PRECISION=\(other) is not one of fp32, bf16; ignored")
        }
        switch environment["TENSORKIT_WINOGRAD"] {
        case nil, "", "1": break
        case "0": winograd = false
        case let other?: Self.warn("TENSORKIT_WINOGRAD=\(other) is not 0 or 1; ignored")
        }
        switch environment["TENSORKIT_WINOGRAD_LARGE_TILES"] {
        case nil, "", "1": break
        case "0": winogradLargeTiles = false
        case let other?: Self.warn("TENSORKIT_WINOGRAD_LARGE_TILES=\(other) is not 0 or 1; ignored")
        }
        switch environment["TENSORKIT_WINOGRAD_FORWARD_4X4"] {
        case nil, "": break
        case "0": winogradLargeTilesForward = false
        case "1": winogradLargeTilesForward = true
        case let other?: Self.warn("TENSORKIT_WINOGRAD_FORWARD_4X4=\(other) is not 0 or 1; ignored")
        }
        if let n = positive("TENSORKIT_WINOGRAD_MIN_TILES") { winogradMinimumTilesPrepared = n }
        if let n = positive("TENSORKIT_CONV_COLUMNS") { convolutionColumns = n }
        if let n = positive("TENSORKIT_NUM_THREADS") {
            threads = n
        } else if let ranks = positive("OMPI_COMM_WORLD_LOCAL_SIZE"), ranks > 1 {
            // Several processes of one MPI job on this machine share its cores.
            threads = max(1, threads / ranks)
        }
    }

    /// Whether TensorKit keeps persistent worker threads (`TENSORKIT_WORKER_POOL=0` turns them
    /// off); process-wide, read once.
    static let workerPoolEnabled = ProcessInfo.processInfo.environment["TENSORKIT_WORKER_POOL"] != "0"

    /// The OpenBLAS kernel family asked for with `TENSORKIT_OPENBLAS_CORETYPE` (e.g. `SKYLAKEX`),
    /// or `nil` (also for `keep`) to leave OpenBLAS's own choice; process-wide, read once.
    static let openBLASCoreType: String? = {
        guard let name = ProcessInfo.processInfo.environment["TENSORKIT_OPENBLAS_CORETYPE"], !name.isEmpty,
            name.lowercased() != "keep"
        else { return nil }
        return name
    }()

    private static func warn(_ message: String) {
        FileHandle.standardError.write(Data("TensorKit: \(message)\n".utf8))
    }
}

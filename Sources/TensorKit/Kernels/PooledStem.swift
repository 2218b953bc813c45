import _TensorKitConv

/// The ResNet stem as one direct kernel: a k×k, stride-2 convolution of a one-channel map, its
/// bias and ReLU, then 3×3 / stride-2 / padding-1 max pooling, without writing the full-size map
/// between them (`_TensorKitConv`). On im2col + GEMM the stem is mostly data movement: 49 taps
/// of one channel copied per output, then the map written, read back and pooled.
enum PooledStem {
    /// Whether `pooled(…)` runs for these shapes in the configuration `configuration`: the
    /// AVX-512 or AVX2 kernel set, one input channel, square stride-2 filters, 3×3 / 2 / 1 pooling.
    static func applies(
        inputShape: [Int], filterShape: [Int], stride: Int, padding: Int, pool: MaxPool2d,
        _ configuration: KernelConfiguration = .current
    ) -> Bool {
        guard kernel(configuration) != nil else { return false }
        let k = filterShape[2]
        return inputShape.count == 4 && inputShape[1] == 1 && filterShape[1] == 1 && filterShape[3] == k
            && stride == 2 && pool.kernelSize == 3 && pool.stride == 2 && pool.padding == 1
            && inputShape[2] + 2 * padding >= k && inputShape[3] + 2 * padding >= k
    }

    /// The vector kernel of `configuration`'s kernel set, when this CPU runs it.
    private static func kernel(_ configuration: KernelConfiguration) -> Kernel? {
        switch configuration.kernelSet {
        case .avx512: return tkconv_available() != 0 ? tkconv_stem_pool : nil
        case .avx2: return tkconv_avx2_available() != 0 ? tkconv_stem_pool_avx2 : nil
        case .portable: return nil
        }
    }

    private typealias Kernel =
        @convention(c) (
            UnsafePointer<Float>?, Int, Int, UnsafePointer<Float>?, UnsafePointer<Float>?, Int, Int, Int, Int,
            UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?
        ) -> Void

    /// `maxPool2d(relu(conv2d(x, filters, stride: 2, padding) + bias), 3, 2, 1)` of
    /// `x[N, 1, H, W]` with `filters[O, 1, k, k]`: `[N, O, PH, PW]`, in float32 at any precision.
    /// - Parameter portable: the scalar definition (tests compare the two).
    static func pooled(_ x: Tensor, filters: Tensor, bias: Tensor, padding: Int, portable: Bool = false) -> Tensor {
        let n = x.shape[0], h = x.shape[2], w = x.shape[3]
        let o = filters.shape[0], k = filters.shape[2]
        let oh = (h + 2 * padding - k) / 2 + 1, ow = (w + 2 * padding - k) / 2 + 1
        let ph = (oh - 1) / 2 + 1, pw = (ow - 1) / 2 + 1
        let y = Tensor(uninitializedShape: [n, o, ph, pw])
        // Units of (image, 16 channels): at batch 1 the channels are split between workers.
        let group = 16, groups = (o + group - 1) / group
        let xp = x.pointer, fp = filters.pointer, bp = bias.pointer, yp = y.pointer
        let scratchCount = tkconv_stem_scratch(h, w, k, padding)
        let run = portable ? tkconv_stem_pool_portable : kernel(.current) ?? tkconv_stem_pool_portable
        withExtendedLifetime((x, filters, bias)) {
            Parallel.forRange(n * groups, grain: 1, cost: 1) { lo, hi in
                let scratch = TensorStorage(capacity: scratchCount)
                defer { withExtendedLifetime(scratch) {} }
                for unit in lo..<hi {
                    let image = unit / groups, c0 = unit % groups * group, c1 = min(o, c0 + group)
                    run(xp + image * h * w, h, w, fp, bp, k, padding, c0, c1, yp + image * o * ph * pw, scratch.pointer)
                }
            }
        }
        return y
    }
}

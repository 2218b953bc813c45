import _CFFTW

/// Per-thread aligned buffers for one size's ``FFTPlans``. Not shareable between threads.
final class FFTWorkspace {
    let size: Int
    let plans: FFTPlans
    /// `size` real samples for the r2c transform.
    let input: UnsafeMutablePointer<Float>
    /// `size / 2 + 1` complex bins, interleaved (re, im).
    let output: UnsafeMutablePointer<Float>
    /// `size` complex samples (two real frames interleaved) for the paired transform.
    let pairInput: UnsafeMutablePointer<Float>
    /// `size` complex bins, interleaved (re, im).
    let pairOutput: UnsafeMutablePointer<Float>

    init(size: Int) {
        self.size = size
        plans = FFTPlans.forSize(size)
        func floats(_ complexCount: Int) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(fftwf_alloc_complex(complexCount)!).assumingMemoryBound(to: Float.self)
        }
        input = floats(size / 2 + 1)
        output = floats(size / 2 + 1)
        pairInput = floats(size)
        pairOutput = floats(size)
    }

    deinit {
        for buffer in [input, output, pairInput, pairOutput] { fftwf_free(buffer) }
    }

    /// Transforms `input` into `output`.
    @inline(__always)
    func execute() {
        fftwf_execute_dft_r2c(plans.real, input, Self.complex(output))
    }

    /// Transforms `pairInput` into `pairOutput`.
    @inline(__always)
    func executePair() {
        fftwf_execute_dft(plans.complex, Self.complex(pairInput), Self.complex(pairOutput))
    }

    @inline(__always)
    private static func complex(_ floats: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<fftwf_complex> {
        UnsafeMutableRawPointer(floats).assumingMemoryBound(to: fftwf_complex.self)
    }
}

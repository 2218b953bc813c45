import Foundation
import _CFFTW
import _Locking

/// The FFTW plans for one transform size, shared by every thread: a real-to-complex plan, and a
/// complex plan of the same size that transforms two real frames at once (see
/// ``STFT/powerFramePair(_:signal:workspace:power:stride:)``).
///
/// FFTW's planner is not thread-safe but executing a plan is, with the "new-array" interface
/// (`fftwf_execute_dft_r2c`, `fftwf_execute_dft`) on arrays aligned like the ones it was planned
/// with. So plans are made once per size under a lock, kept for the life of the process, and each
/// caller brings its own `fftwf_malloc`ed buffers (see ``FFTWorkspace``).
final class FFTPlans: @unchecked Sendable {
    // Immutable after init, and FFTW documents concurrent execution of one plan as safe.
    let size: Int
    let real: fftwf_plan
    let complex: fftwf_plan

    private init(size: Int, real: fftwf_plan, complex: fftwf_plan) {
        self.size = size
        self.real = real
        self.complex = complex
    }

    /// Plans by size; FFTW's planner runs only under this lock.
    private static let cache = Locked<[Int: FFTPlans]>([:])

    /// The plans for `size`-point transforms, made on first use.
    static func forSize(_ size: Int) -> FFTPlans {
        cache.withLock { cache in
            if let plans = cache[size] { return plans }
            let entry = plan(size)
            cache[size] = entry
            return entry
        }
    }

    private static func plan(_ size: Int) -> FFTPlans {
        let input = fftwf_alloc_complex(size)!
        let output = fftwf_alloc_complex(size)!
        defer {
            fftwf_free(input)
            fftwf_free(output)
        }
        // ESTIMATE, not MEASURE: on the project's Zen 4 machine MEASURE's plans for these sizes
        // ran no faster (0.70 µs per 1024-point frame either way), cost ~0.2 s per size at
        // startup, and can differ from run to run, changing the last bits of the results.
        let realInput = UnsafeMutableRawPointer(input).assumingMemoryBound(to: Float.self)
        let real = fftwf_plan_dft_r2c_1d(Int32(size), realInput, output, FFTW_ESTIMATE)!
        let complex = fftwf_plan_dft_1d(Int32(size), input, output, FFTW_FORWARD, FFTW_ESTIMATE)!
        return FFTPlans(size: size, real: real, complex: complex)
    }
}

import XCTest
import _TensorKitGEMM
@_spi(Benchmarks) @testable import TensorKit

/// The multiply-add loops behind `audiocnn bench peak`: which run on this CPU, and the
/// operations each reports (the rate's numerator).
final class PeakRateTests: XCTestCase {
    func testLoopsRunWhereTheCPUHasTheirInstructionsAndCountTheirOperations() {
        let steps: Int64 = 1000
        // Twelve chains a step; lanes × (multiply + add), and two products per bfloat16 lane.
        let avx2 = tkgemm_peak_flops(Int32(TKGEMM_PEAK_FP32_AVX2), steps)
        XCTAssertEqual(avx2, KernelConfiguration.isAVX2Available || KernelConfiguration.isAVX512Available ? 1000 * 12 * 8 * 2 : 0)
        let avx512 = tkgemm_peak_flops(Int32(TKGEMM_PEAK_FP32_AVX512), steps)
        XCTAssertEqual(avx512, KernelConfiguration.isAVX512Available ? 1000 * 12 * 16 * 2 : 0)
        let bf16 = tkgemm_peak_flops(Int32(TKGEMM_PEAK_BF16_AVX512), steps)
        XCTAssertEqual(bf16, KernelConfiguration.isBFloat16Available ? 1000 * 12 * 16 * 4 : 0)
        XCTAssertEqual(tkgemm_peak_flops(7, steps), 0, "an unknown kind runs nothing")
        XCTAssertEqual(tkgemm_peak_flops(Int32(TKGEMM_PEAK_FP32_AVX2), 0), 0)
    }

    func testPeakRateUsesTheWidestFMAAndReportsBFloat16OnlyWhereItRuns() {
        let peak = KernelBenchmark.peakRate(threads: 1, repetitions: 1)
        XCTAssertEqual(peak.threads, 1)
        if KernelConfiguration.isAVX512Available {
            XCTAssertEqual(peak.float32Instructions, "avx512")
        } else if KernelConfiguration.isAVX2Available {
            XCTAssertEqual(peak.float32Instructions, "avx2")
        }
        if peak.float32Instructions != nil {
            XCTAssertGreaterThan(peak.float32, 0)
            XCTAssertTrue(peak.float32.isFinite)
        } else {
            XCTAssertEqual(peak.float32, 0)
        }
        XCTAssertEqual(peak.bfloat16 != nil, KernelConfiguration.isBFloat16Available)
    }
}

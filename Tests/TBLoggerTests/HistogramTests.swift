import Foundation
import XCTest
import _TestSupport
@testable import TBLogger

final class HistogramTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let values: [Double]
        let min: Double, max: Double, num: Double, sum: Double, sum_squares: Double
        let bucket_limit: [Double]
        let bucket: [Double]
    }

    /// Bucket limits and counts identical to `torch.utils.tensorboard.summary.make_histogram`
    /// with PyTorch's default (TensorFlow) bins.
    func testMatchesTorchMakeHistogram() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.url("TBLogger", "histograms.json")))
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let h = try XCTUnwrap(c.values.withUnsafeBufferPointer { Histogram($0) }, c.name)
            XCTAssertEqual(h.bucketLimits, c.bucket_limit, c.name)
            XCTAssertEqual(h.bucketCounts, c.bucket, c.name)
            XCTAssertEqual(h.min, c.min, c.name)
            XCTAssertEqual(h.max, c.max, c.name)
            XCTAssertEqual(h.num, c.num, c.name)
            XCTAssertEqual(h.sum, c.sum, accuracy: 1e-9 * max(1, abs(c.sum)), c.name)
            XCTAssertEqual(h.sumSquares, c.sum_squares, accuracy: 1e-9 * max(1, c.sum_squares), c.name)
        }
    }

    func testDefaultEdgesAreTensorFlowLayout() {
        let edges = Histogram.defaultEdges
        XCTAssertEqual(edges.count, 1549)
        XCTAssertEqual(edges[774], 0)
        XCTAssertEqual(edges[775], 1e-12)
        XCTAssertEqual(edges[773], -1e-12)
        XCTAssertTrue(zip(edges, edges.dropFirst()).allSatisfy { $0 < $1 })
    }

    func testValuesBeyondTheEdgesAreNotBucketed() {
        XCTAssertNil([1e25, -1e30].withUnsafeBufferPointer { Histogram($0) })
        let h = [1e25, 2.0].withUnsafeBufferPointer { Histogram($0) }
        XCTAssertEqual(h?.bucketCounts.reduce(0, +), 1)
        XCTAssertEqual(h?.num, 2)
    }
}

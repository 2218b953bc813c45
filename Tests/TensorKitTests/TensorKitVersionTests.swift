import XCTest
import TensorKit

final class TensorKitVersionTests: XCTestCase {
    func testVersionIsSemantic() {
        let parts = TensorKitLibrary.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil })
    }
}

import XCTest
import TBLogger

final class TBLoggerVersionTests: XCTestCase {
    func testVersionIsSemantic() {
        let parts = TBLoggerLibrary.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil })
    }
}

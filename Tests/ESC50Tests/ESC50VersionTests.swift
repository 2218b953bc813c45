import XCTest
import ESC50

final class ESC50VersionTests: XCTestCase {
    func testVersionIsSemantic() {
        let parts = ESC50Library.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil })
    }
}

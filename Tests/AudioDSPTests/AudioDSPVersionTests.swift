import XCTest
import AudioDSP

final class AudioDSPVersionTests: XCTestCase {
    func testVersionIsSemantic() {
        let parts = AudioDSPLibrary.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil })
    }
}

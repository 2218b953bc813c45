import XCTest
import ResNetAudio

final class ResNetAudioVersionTests: XCTestCase {
    func testVersionIsSemantic() {
        let parts = ResNetAudioLibrary.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil })
    }
}

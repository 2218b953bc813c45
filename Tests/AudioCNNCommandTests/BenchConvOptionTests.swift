import ArgumentParser
import XCTest
@testable import audiocnn

/// `bench conv --stage`: one of the four stage names, refused otherwise before anything runs.
final class BenchConvOptionTests: XCTestCase {
    func testStageNamesOneOfTheFourStages() throws {
        for name in ["layer1", "layer2", "layer3", "layer4"] {
            let command = try AudioCNNCommand.parseAsRoot(["bench", "conv", "--stage", name, "--no-pytorch"])
            XCTAssertEqual((command as? BenchConvCommand)?.stage, name)
        }
        let all = try AudioCNNCommand.parseAsRoot(["bench", "conv", "--no-pytorch"])
        XCTAssertNil((all as? BenchConvCommand)?.stage, "every stage by default")
        XCTAssertThrowsError(try AudioCNNCommand.parseAsRoot(["bench", "conv", "--stage", "layer5"])) { error in
            let message = AudioCNNCommand.message(for: error)
            XCTAssertTrue(message.contains("layer5") && message.contains("layer4"), message)
        }
    }
}

@testable import ESC50
import XCTest

final class CSVTableTests: XCTestCase {
    func testPlainLFAndCRLFGiveTheSameRows() throws {
        let lf = try CSVTable(text: "a,b\n1,2\n3,4\n")
        let crlf = try CSVTable(text: "a,b\r\n1,2\r\n3,4\r\n")
        XCTAssertEqual(lf.header, ["a", "b"])
        XCTAssertEqual(crlf.header, ["a", "b"])
        XCTAssertEqual(lf.rows.map(\.fields), [["1", "2"], ["3", "4"]])
        XCTAssertEqual(crlf.rows.map(\.fields), lf.rows.map(\.fields))
        XCTAssertEqual(crlf.rows.map(\.line), [2, 3])
    }

    func testBOMIsDroppedAndLastLineNeedsNoNewline() throws {
        let table = try CSVTable(text: "\u{FEFF}filename,fold\nx.wav,1")
        XCTAssertEqual(table.header, ["filename", "fold"])
        XCTAssertEqual(table.rows.map(\.fields), [["x.wav", "1"]])
    }

    func testQuotedFieldsWithCommasQuotesAndNewlines() throws {
        let table = try CSVTable(text: "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,row,here\n")
        XCTAssertEqual(table.rows[0].fields, ["x, y", "say \"hi\"", "two\nlines"])
        XCTAssertEqual(table.rows[0].line, 2)
        // The embedded newline advances the line count for the next record.
        XCTAssertEqual(table.rows[1].line, 4)
    }

    func testBlankLinesAreSkippedButKeepLineNumbers() throws {
        let table = try CSVTable(text: "a\n\n1\n\r\n2\n")
        XCTAssertEqual(table.rows.map(\.fields), [["1"], ["2"]])
        XCTAssertEqual(table.rows.map(\.line), [3, 5])
    }

    func testEmptyQuotedFieldIsARecord() throws {
        let table = try CSVTable(text: "a\n\"\"\n")
        XCTAssertEqual(table.rows.map(\.fields), [[""]])
    }

    func testSyntaxErrorsNameTheLine() {
        XCTAssertThrowsError(try CSVTable(text: "a,b\n1,\"open\n2,3\n")) { error in
            XCTAssertEqual((error as? CSVTable.SyntaxError)?.line, 2)
        }
        XCTAssertThrowsError(try CSVTable(text: "a,b\n1,2\n3,x\"y\n")) { error in
            XCTAssertEqual((error as? CSVTable.SyntaxError)?.line, 3)
        }
        XCTAssertThrowsError(try CSVTable(text: "a\n\"q\"z\n")) { error in
            XCTAssertEqual((error as? CSVTable.SyntaxError)?.line, 2)
        }
        XCTAssertThrowsError(try CSVTable(text: "")) { error in
            XCTAssertEqual((error as? CSVTable.SyntaxError)?.line, 1)
        }
    }
}

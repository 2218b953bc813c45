import Foundation

/// A parsed RFC 4180 CSV file: a header and rows of fields, each row remembering its
/// 1-based line number in the file so errors can point at it.
///
/// Accepts a UTF-8 byte-order mark, LF or CRLF line ends, quoted fields (with `""` escapes,
/// embedded commas and line breaks) and blank lines (skipped).
struct CSVTable {
    struct Row {
        /// The 1-based line of the file on which the row starts.
        var line: Int
        var fields: [String]
    }

    var header: [String]
    var rows: [Row]

    /// A problem in the CSV syntax itself, with the 1-based line where it was found.
    struct SyntaxError: Error {
        var line: Int
        var message: String
    }

    init(text: String) throws(SyntaxError) {
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        var records: [Row] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRecord() {
            fields.append(field)
            field = ""
            // A line holding nothing at all is not a record (trailing newline, blank lines).
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                records.append(Row(line: recordLine, fields: fields))
            }
            fields = []
            fieldWasQuoted = false
        }

        while let c = pending ?? scalars.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    let next = scalars.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else {
                    throw SyntaxError(line: line, message: "a quote inside an unquoted field")
                }
                inQuotes = true
                fieldWasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                fieldWasQuoted = false
            case "\r":
                let next = scalars.next()
                if next != "\n" { pending = next }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                if fieldWasQuoted {
                    throw SyntaxError(line: line, message: "characters after a closing quote")
                }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw SyntaxError(line: recordLine, message: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }

        guard let first = records.first else {
            throw SyntaxError(line: 1, message: "the file is empty (no header line)")
        }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
    }

    /// The index of the column called `name` (case-sensitive, surrounding spaces ignored).
    func column(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }
}

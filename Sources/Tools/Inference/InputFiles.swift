import AudioDSP
import Foundation

/// The audio files named on a command line: files as given, folders expanded with `--recursive`.
enum InputFiles {
    /// The files to classify, and how many arguments could not be used (each reported on
    /// standard error: a folder without `--recursive`, a folder without audio files).
    static func expand(_ paths: [String], recursive: Bool) -> (files: [String], failures: Int) {
        var files: [String] = []
        var failures = 0
        func fail(_ message: String) {
            failures += 1
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(path)  // the classifier says what is wrong with a missing or special file
                continue
            }
            guard recursive else {
                fail("\(path): is a directory; pass --recursive to classify the audio files in it")
                continue
            }
            let found = audioFiles(under: URL(fileURLWithPath: path))
            if found.isEmpty {
                fail(
                    "\(path): no audio files in this folder or below it (looked for \(AudioFile.commonFileExtensions.sorted().joined(separator: ", ")))"
                )
            }
            files += found
        }
        return (files, failures)
    }

    /// Every file with an audio extension below `folder` (symbolic links followed, hidden files
    /// skipped), in path order.
    static func audioFiles(under folder: URL) -> [String] {
        let base = folder.path.hasSuffix("/") ? folder.path : folder.path + "/"
        guard
            let walker = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
        else { return [] }
        var found: [String] = []
        for case let url as URL in walker where AudioFile.commonFileExtensions.contains(url.pathExtension.lowercased()) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(url.path.hasPrefix(base) ? base + url.path.dropFirst(base.count) : url.path)
            }
        }
        return found.sorted()
    }
}

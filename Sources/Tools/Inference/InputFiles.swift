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
            let found = audioFiles(under: path)
            if found.isEmpty {
                fail(
                    "\(path): no audio files in this folder or below it (looked for \(AudioFile.commonFileExtensions.sorted().joined(separator: ", ")))"
                )
            }
            files += found
        }
        return (files, failures)
    }

    /// Every file with an audio extension below the folder at `path` (symbolic links to files
    /// and folders followed, each folder visited once; hidden entries skipped), in path order,
    /// each path starting with `path` as it was typed.
    static func audioFiles(under path: String) -> [String] {
        var found: [String] = []
        var visited = Set<String>()
        func walk(_ folder: String) {
            guard visited.insert(URL(fileURLWithPath: folder).resolvingSymlinksInPath().path).inserted,
                let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
            else { return }
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    walk(child)
                } else if AudioFile.commonFileExtensions.contains((name as NSString).pathExtension.lowercased()) {
                    found.append(child)
                }
            }
        }
        walk(path)
        return found
    }
}

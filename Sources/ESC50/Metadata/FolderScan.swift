import AudioDSP
import Foundation

/// Reads a folder of class folders: `root/<class>/...` or `root/fold<N>/<class>/...`.
///
/// Every non-hidden file with an audio extension below a class folder (at any depth, symbolic
/// links followed) is a clip of that class; other files are listed as ignored (warnings).
struct FolderScan {
    var clips: [ClipRecord] = []
    var problems: [DatasetProblem] = []

    init(root: URL, split: FolderSplit) throws(ESC50Error) {
        let top = try Self.entries(of: root)
        let folders = top.filter(\.isDirectory)
        let foldNumbers = folders.map { Self.foldNumber($0.name) }
        let hasFoldLevel = !folders.isEmpty && foldNumbers.allSatisfy { $0 != nil }
        guard hasFoldLevel || split.folds >= 2 else {
            throw .invalidSelection("a folder data set needs at least 2 folds to hold one out, got \(split.folds)")
        }
        for entry in top where !entry.isDirectory {
            problems.append(DatasetProblem(.ignoredFile, file: entry.name, detail: "not inside a class folder"))
        }

        // (class, fold or nil, relative path) of every clip.
        var found: [(category: String, fold: Int?, path: String)] = []
        func collect(classFolder: URL, category: String, fold: Int?, prefix: String) throws(ESC50Error) {
            var files: [String] = []
            var visited = Set<String>()
            try walk(classFolder, relative: prefix + category, visited: &visited, files: &files)
            if files.isEmpty {
                problems.append(
                    DatasetProblem(.ignoredFile, file: prefix + category + "/", detail: "a class folder without audio files"))
            }
            for path in files { found.append((category, fold, path)) }
        }
        func walk(_ folder: URL, relative: String, visited: inout Set<String>, files: inout [String]) throws(ESC50Error) {
            // Symbolic links are followed; a link back up the tree is visited once.
            guard visited.insert(folder.resolvingSymlinksInPath().path).inserted else { return }
            for entry in try Self.entries(of: folder) {
                let path = relative + "/" + entry.name
                if entry.isDirectory {
                    try walk(folder.appendingPathComponent(entry.name), relative: path, visited: &visited, files: &files)
                } else if AudioFile.commonFileExtensions.contains((entry.name as NSString).pathExtension.lowercased()) {
                    files.append(path)
                } else {
                    problems.append(DatasetProblem(.ignoredFile, file: path, detail: "not an audio file extension"))
                }
            }
        }
        if hasFoldLevel {
            for (folder, fold) in zip(folders, foldNumbers) {
                for entry in try Self.entries(of: root.appendingPathComponent(folder.name)) {
                    guard entry.isDirectory else {
                        problems.append(
                            DatasetProblem(.ignoredFile, file: folder.name + "/" + entry.name, detail: "not inside a class folder"))
                        continue
                    }
                    try collect(
                        classFolder: root.appendingPathComponent(folder.name).appendingPathComponent(entry.name),
                        category: entry.name, fold: fold, prefix: folder.name + "/")
                }
            }
        } else {
            for folder in folders {
                try collect(classFolder: root.appendingPathComponent(folder.name), category: folder.name, fold: nil, prefix: "")
            }
        }
        guard !found.isEmpty else {
            throw .noClips("\(root.path) has no audio files in class folders (expected <class>/<file> or fold<N>/<class>/<file>)")
        }

        let classes = Set(found.map(\.category)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let target = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var folds = found.map(\.fold)
        if !hasFoldLevel {
            // Stratified: each class's files in a seeded order, dealt round-robin, continuing
            // from where the previous class stopped so fold sizes differ by at most one.
            var next = 0
            for category in classes {
                let members = found.indices.filter { found[$0].category == category }.sorted {
                    (SplitMix64.hash(found[$0].path, seed: split.seed), found[$0].path)
                        < (SplitMix64.hash(found[$1].path, seed: split.seed), found[$1].path)
                }
                for index in members {
                    folds[index] = next % split.folds + 1
                    next += 1
                }
            }
        }
        let order = found.indices.sorted { a, b in
            let (ta, tb) = (target[found[a].category]!, target[found[b].category]!)
            if ta != tb { return ta < tb }
            return found[a].path.unicodeScalars.lexicographicallyPrecedes(found[b].path.unicodeScalars)
        }
        clips = order.map { index in
            let item = found[index]
            return ClipRecord(filename: item.path, fold: folds[index]!, target: target[item.category]!, category: item.category)
        }
        problems.sort(by: DatasetProblem.listingOrder)
    }

    /// `fold3` -> 3 (case-insensitive); `nil` for any other name.
    static func foldNumber(_ name: String) -> Int? {
        guard name.lowercased().hasPrefix("fold"), let number = Int(name.dropFirst(4)), number >= 1 else { return nil }
        return number
    }

    /// The non-hidden entries of `folder` in name order, with whether each is a folder (after
    /// following symbolic links).
    static func entries(of folder: URL) throws(ESC50Error) -> [(name: String, isDirectory: Bool)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadableMetadata(folder, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") }
            .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            .map { name in
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(
                    atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
                return (name, exists && isDirectory.boolValue)
            }
    }
}

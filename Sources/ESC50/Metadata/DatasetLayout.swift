import Foundation

/// How a data set folder is organised: which file lists the clips, or which folders do.
public enum DatasetLayout: String, Sendable, CaseIterable, Hashable {
    /// ESC-50's: `meta/esc50.csv` (columns `filename`, `fold`, `target`, `category`) and the
    /// clips in `audio/`.
    case esc50
    /// UrbanSound8K's: `metadata/UrbanSound8K.csv` (columns `slice_file_name`, `fold`,
    /// `classID`, `class`, `fsID`) and the clips in `audio/fold<N>/`.
    case urbanSound8K = "urbansound8k"
    /// A folder of class folders: the class is the folder's name, every audio file below it is a
    /// clip. Folds come from a `fold<N>/` level above the class folders when there is one, or
    /// from a seeded stratified split (``FolderSplit``).
    case folders

    /// The metadata file of a CSV layout, relative to the data set's root; `nil` for ``folders``.
    public var metadataPath: String? {
        switch self {
        case .esc50: return "meta/esc50.csv"
        case .urbanSound8K: return "metadata/UrbanSound8K.csv"
        case .folders: return nil
        }
    }

    /// The layout of `directory`: ``esc50`` when it has `meta/esc50.csv`, else ``urbanSound8K``
    /// when it has `metadata/UrbanSound8K.csv`, else ``folders`` when it holds at least one
    /// sub-folder.
    /// - Throws: ``ESC50Error/unknownLayout(_:)`` when it is none of these (or not a folder).
    public static func detect(in directory: URL) throws(ESC50Error) -> DatasetLayout {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unknownLayout(directory)
        }
        for layout in [DatasetLayout.esc50, .urbanSound8K] {
            if let path = layout.metadataPath, fm.fileExists(atPath: directory.appendingPathComponent(path).path) {
                return layout
            }
        }
        let entries = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        let hasFolder = entries.contains { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".")
                && fm.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
        }
        guard hasFolder else { throw .unknownLayout(directory) }
        return .folders
    }
}

/// How a folder of class folders without a `fold<N>/` level is cut into folds.
///
/// Each class's files are ordered by a hash of their path seeded with ``seed`` and dealt to the
/// folds in turn, continuing where the previous class stopped, so every fold gets about the same
/// share of every class and the fold sizes differ by at most one. The same files and seed give the
/// same folds whatever the order the file system lists them in.
public struct FolderSplit: Sendable, Hashable {
    /// The number of folds, numbered `1...folds` (5 by default, so fold 5 is a valid validation fold).
    public var folds: Int
    /// Fixes which files land in which fold.
    public var seed: UInt64

    /// A split into `folds` folds fixed by `seed`.
    public init(folds: Int = 5, seed: UInt64 = 0) {
        self.folds = folds
        self.seed = seed
    }
}

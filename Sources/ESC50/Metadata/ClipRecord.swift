import Foundation

/// One clip of a data set in the ESC-50 layout: one row of `meta/esc50.csv`.
public struct ClipRecord: Sendable, Hashable {
    /// The file name the CSV gives, relative to the data set's `audio/` folder.
    public var filename: String
    /// The cross-validation fold (1-based, as in the CSV).
    public var fold: Int
    /// The class index the CSV gives (the `target` column). Note that training uses
    /// ``SoundDataset/classIndex(of:)`` (position in the sorted class list), which for ESC-50
    /// differs from `target`.
    public var target: Int
    /// The class name (the `category` column).
    public var category: String
    /// Whether the clip belongs to the ESC-10 subset (`esc10` column; `false` when absent).
    public var isESC10: Bool
    /// The freesound recording the clip was cut from (`src_file`); takes of one source are
    /// near-duplicates and must stay on one side of a split. Empty when the column is absent.
    public var sourceFile: String
    /// The take letter (`take`); empty when the column is absent.
    public var take: String
    /// The 1-based line of `meta/esc50.csv` this record came from, for error messages.
    public var csvLine: Int

    /// Creates a record; `csvLine` is 0 for records that do not come from a file.
    public init(
        filename: String, fold: Int, target: Int, category: String, isESC10: Bool = false,
        sourceFile: String = "", take: String = "", csvLine: Int = 0
    ) {
        self.filename = filename
        self.fold = fold
        self.target = target
        self.category = category
        self.isESC10 = isESC10
        self.sourceFile = sourceFile
        self.take = take
        self.csvLine = csvLine
    }
}

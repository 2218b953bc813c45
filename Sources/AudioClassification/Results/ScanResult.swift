/// How a long recording is cut into windows for ``AudioClassifier/scan(contentsOf:options:progress:)``.
public struct ScanOptions: Sendable, Hashable {
    /// Window length, in seconds (5 by default, the length of an ESC-50 clip).
    public var window: Double
    /// Distance between window starts, in seconds (2.5 by default: windows overlap by half).
    public var hop: Double
    /// Windows classified per forward pass.
    public var batchSize: Int

    /// Windows of `window` seconds every `hop` seconds, `batchSize` per forward pass.
    public init(window: Double = 5, hop: Double = 2.5, batchSize: Int = 16) {
        self.window = window
        self.hop = hop
        self.batchSize = batchSize
    }
}

/// The class probabilities of one window of a recording.
public struct WindowPrediction: Sendable, Equatable {
    /// Where the window starts in the recording, in seconds.
    public var start: Double
    /// Where it ends, in seconds.
    public var end: Double
    /// Softmax probabilities, one per class, in the classifier's ``AudioClassifier/classes`` order.
    public var probabilities: [Float]

    /// A window of `start...end` seconds with `probabilities`.
    public init(start: Double, end: Double, probabilities: [Float]) {
        self.start = start
        self.end = end
        self.probabilities = probabilities
    }

    /// The indices of the `k` most probable classes, most probable first (ties by lower index).
    public func topIndices(_ k: Int) -> [Int] {
        Array(
            probabilities.indices.sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
                .prefix(k))
    }
}

/// A stretch of a recording where one class is among the top predictions of consecutive
/// windows: one window, or several merged.
public struct SoundEvent: Sendable, Equatable {
    /// Start of the first window, in seconds.
    public var start: Double
    /// End of the last window, in seconds.
    public var end: Double
    /// The class name.
    public var className: String
    /// The highest probability of the class over the merged windows.
    public var confidence: Float
    /// How many windows the event spans.
    public var windowCount: Int

    /// An event of `className` over `start...end`.
    public init(start: Double, end: Double, className: String, confidence: Float, windowCount: Int) {
        self.start = start
        self.end = end
        self.className = className
        self.confidence = confidence
        self.windowCount = windowCount
    }
}

/// The windows of a scanned recording and the events found in them.
public struct ScanResult: Sendable, Equatable {
    /// The class names, in probability order.
    public var classes: [String]
    /// The recording's length, in seconds.
    public var duration: Double
    /// Every window, in time order.
    public var windows: [WindowPrediction]

    /// The recording's windows over `classes`.
    public init(classes: [String], duration: Double, windows: [WindowPrediction]) {
        self.classes = classes
        self.duration = duration
        self.windows = windows
    }

    /// One event per window and class among the window's `top` classes with a probability of
    /// at least `minimumConfidence`; with `merge`, consecutive windows of one class become one
    /// event. Sorted by start time, then by confidence (highest first).
    public func events(top: Int = 1, minimumConfidence: Float = 0, merge: Bool = false) -> [SoundEvent] {
        var events: [SoundEvent] = []
        var open: [Int: Int] = [:]  // class -> index in events of its event still being extended
        for window in windows {
            let hits = Set(window.topIndices(max(1, top)).filter { window.probabilities[$0] >= minimumConfidence })
            // An event stays open only while its class keeps being a hit in the next window.
            open = merge ? open.filter { hits.contains($0.key) } : [:]
            for index in window.topIndices(max(1, top)) where hits.contains(index) {
                let p = window.probabilities[index]
                if merge, let position = open[index] {
                    events[position].end = window.end
                    events[position].confidence = max(events[position].confidence, p)
                    events[position].windowCount += 1
                } else {
                    open[index] = events.count
                    events.append(
                        SoundEvent(start: window.start, end: window.end, className: classes[index], confidence: p, windowCount: 1))
                }
            }
        }
        return events.enumerated().sorted {
            ($0.element.start, -$0.element.confidence, $0.offset) < ($1.element.start, -$1.element.confidence, $1.offset)
        }.map(\.element)
    }
}

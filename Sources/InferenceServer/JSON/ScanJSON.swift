import AudioClassification

extension ScanResult {
    /// The body of `POST /scan`: `{"duration": s, "classes": [names], "windows": [{"start": s,
    /// "end": s, "probabilities": [one per class]}]}`, times exact, probabilities with 6
    /// significant digits.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 256 + windows.count * (40 + classes.count * 10))
        w.raw("{\"duration\":")
        w.exact(duration)
        w.raw(",\"classes\":[")
        for (i, name) in classes.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(name)
        }
        w.raw("],\"windows\":[")
        for (i, window) in windows.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"start\":")
            w.exact(window.start)
            w.raw(",\"end\":")
            w.exact(window.end)
            w.raw(",\"probabilities\":[")
            for (j, p) in window.probabilities.enumerated() {
                if j > 0 { w.byte(UInt8(ascii: ",")) }
                w.compact(p)
            }
            w.raw("]}")
        }
        w.raw("]}")
        return w.bytes
    }
}

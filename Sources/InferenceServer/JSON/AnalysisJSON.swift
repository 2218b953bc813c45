import AudioClassification

extension Analysis {
    /// The reference service's response body, field for field:
    /// `{"predictions": [{"class", "confidence"}], "visualization": {name: {"shape", "values"}},
    /// "input_spectrogram": {"shape", "values"}, "waveform": {"values", "sample_rate", "duration"}}`.
    /// Feature maps keep forward order; confidences are exact, other numbers have 6 significant digits.
    public func jsonBytes() -> [UInt8] {
        let numbers = featureMaps.reduce(inputSpectrogram.values.count + waveform.values.count) { $0 + $1.plane.values.count }
        var w = JSONWriter(capacity: 64 * 1024 + numbers * 10)
        w.raw("{\"predictions\":")
        w.predictions(predictions)
        w.raw(",\"visualization\":{")
        for (i, map) in featureMaps.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(map.name)
            w.byte(UInt8(ascii: ":"))
            w.plane(map.plane)
        }
        w.raw("},\"input_spectrogram\":")
        w.plane(inputSpectrogram)
        w.raw(",\"waveform\":{\"values\":[")
        for (i, v) in waveform.values.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.compact(v)
        }
        w.raw("],\"sample_rate\":")
        w.int(waveform.sampleRate)
        w.raw(",\"duration\":")
        w.exact(waveform.duration)
        w.raw("}}")
        return w.bytes
    }
}

extension JSONWriter {
    /// `[{"class": name, "confidence": p}, …]`.
    mutating func predictions(_ predictions: [Prediction]) {
        byte(UInt8(ascii: "["))
        for (i, p) in predictions.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            raw("{\"class\":")
            string(p.className)
            raw(",\"confidence\":")
            exact(p.confidence)
            byte(UInt8(ascii: "}"))
        }
        byte(UInt8(ascii: "]"))
    }

    /// `{"shape": [H, W], "values": [[row 0], [row 1], …]}`.
    mutating func plane(_ plane: Plane) {
        raw("{\"shape\":[")
        int(plane.height)
        byte(UInt8(ascii: ","))
        int(plane.width)
        raw("],\"values\":[")
        plane.values.withUnsafeBufferPointer { v in
            for r in 0..<plane.height {
                if r > 0 { byte(UInt8(ascii: ",")) }
                byte(UInt8(ascii: "["))
                let row = r * plane.width
                for c in 0..<plane.width {
                    if c > 0 { byte(UInt8(ascii: ",")) }
                    compact(v[row + c])
                }
                byte(UInt8(ascii: "]"))
            }
        }
        raw("]}")
    }
}

/// One line of `audiocnn predict --json`: `{"file": path, "predictions": [{"class", "confidence"}]}`,
/// the predictions in exactly the API's format.
public func predictionJSONLine(file: String, predictions: [Prediction]) -> String {
    var w = JSONWriter(capacity: 256)
    w.raw("{\"file\":")
    w.string(file)
    w.raw(",\"predictions\":")
    w.predictions(predictions)
    w.byte(UInt8(ascii: "}"))
    return String(decoding: w.bytes, as: UTF8.self)
}

/// One line of `audiocnn predict --json` for a file that failed: `{"file", "error", "detail"}`.
public func predictionErrorJSONLine(file: String, error: InferenceError) -> String {
    var w = JSONWriter(capacity: 256)
    w.raw("{\"file\":")
    w.string(file)
    w.raw(",\"error\":")
    w.string(error.code)
    w.raw(",\"detail\":")
    w.string(error.description)
    w.byte(UInt8(ascii: "}"))
    return String(decoding: w.bytes, as: UTF8.self)
}

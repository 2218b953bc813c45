import TensorKit

/// libFuzzer entry point: open the input as a safetensors file and, if it opens, read every
/// tensor through every accessor (a file that opens must read without further errors).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile(bytes: bytes, source: "fuzz") else { return 0 }
    for entry in file.entries {
        guard let floats = try? file.floats(entry.name), let tensor = try? file.tensor(entry.name),
            let doubles = try? file.doubles(entry.name)
        else {
            preconditionFailure("\(entry.name) opened but does not read")
        }
        precondition(floats.count == entry.elementCount && doubles.count == entry.elementCount && tensor.shape == entry.shape)
        _ = try? file.int64s(entry.name)
    }
    return 0
}

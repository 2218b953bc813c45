/// A growable byte buffer of framed TFRecords, owned by one writer thread.
///
/// Records are packed in place (protobuf-c writes straight behind the 12-byte header), so
/// encoding an event allocates nothing once the buffer has grown to its working size.
final class RecordBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The bytes appended so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    /// Appends one framed record whose payload is `payloadSize` bytes written by `pack`
    /// (which must write exactly that many bytes at the pointer it is given).
    func appendRecord(payloadSize: Int, pack: (UnsafeMutablePointer<UInt8>) -> Void) {
        reserve(payloadSize + TFRecord.overhead)
        let header = base + count
        let payload = header + 12
        pack(payload.assumingMemoryBound(to: UInt8.self))
        TFRecord.writeHeader(length: payloadSize, at: header)
        TFRecord.writeFooter(
            payload: UnsafeRawBufferPointer(start: payload, count: payloadSize),
            at: payload + payloadSize)
        count += payloadSize + TFRecord.overhead
    }

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}

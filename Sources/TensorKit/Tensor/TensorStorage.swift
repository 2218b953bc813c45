import _Locking
import Foundation
import Synchronization

/// The shared, 64-byte-aligned float32 buffer behind one or more `Tensor` values.
///
/// A `Tensor` is a value: it copies this buffer before writing when another tensor shares it
/// (copy-on-write). Buffers come from and go back to `BufferPool`, so a training loop that
/// allocates the same shapes every step reuses memory instead of faulting fresh pages in.
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    /// Number of floats the buffer holds.
    let capacity: Int

    /// An uninitialised buffer of `capacity` floats.
    init(capacity: Int) {
        self.capacity = capacity
        pointer = BufferPool.shared.allocate(count: capacity)
    }

    /// A buffer of `capacity` floats set to zero.
    convenience init(zeros capacity: Int) {
        self.init(capacity: capacity)
        pointer.update(repeating: 0, count: capacity)
    }

    /// A new buffer holding a copy of the first `count` floats of `self`.
    func copy(count: Int) -> TensorStorage {
        let s = TensorStorage(capacity: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { BufferPool.shared.release(pointer, count: capacity) }
}

/// A caching allocator for tensor buffers, keyed by exact size.
///
/// Why: a ResNet training step allocates the same few hundred buffer sizes every step; fresh
/// large `malloc`s are `mmap`s whose pages fault and zero on first touch, which costs more than
/// the elementwise kernels themselves. Small buffers go straight to the system allocator.
final class BufferPool: Sendable {
    static let shared = BufferPool()

    /// Buffers smaller than this (in floats) are not cached.
    static let minimumCachedCount = 4096
    /// Upper bound on the bytes kept idle in the cache.
    static let maximumCachedBytes = 3 << 30

    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses, so the state is Sendable
        var cachedBytes = 0
    }
    private let state = Locked(State())
    /// Bytes of buffers handed out and not yet released, and the most since the last reset:
    /// what tensors themselves need, apart from the idle cache.
    private let live = Atomic<Int>(0)
    private let peakLive = Atomic<Int>(0)

    var liveBytes: Int { live.load(ordering: .relaxed) }
    var peakLiveBytes: Int { peakLive.load(ordering: .relaxed) }
    func resetPeak() { peakLive.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        let now = live.add(n * 4, ordering: .relaxed).newValue
        peakLive.max(now, ordering: .relaxed)
        if n >= Self.minimumCachedCount {
            let reused = state.withLock { s -> UInt? in
                guard var list = s.free[n], let p = list.popLast() else { return nil }
                s.free[n] = list
                s.cachedBytes -= n * 4
                return p
            }
            if let reused, let p = UnsafeMutablePointer<Float>(bitPattern: reused) { return p }
        }
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride)
        guard status == 0, let raw else {
            fatalError("TensorKit: out of memory allocating \(n * 4) bytes for a tensor")
        }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        live.subtract(n * 4, ordering: .relaxed)
        if n >= Self.minimumCachedCount {
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + n * 4 <= Self.maximumCachedBytes else { return false }
                s.free[n, default: []].append(UInt(bitPattern: pointer))
                s.cachedBytes += n * 4
                return true
            }
            if kept { return }
        }
        free(pointer)
    }

    /// Returns every idle cached buffer to the system.
    func purge() {
        let lists = state.withLock { s -> [[UInt]] in
            let l = Array(s.free.values)
            s.free = [:]
            s.cachedBytes = 0
            return l
        }
        for list in lists { for p in list { free(UnsafeMutableRawPointer(bitPattern: p)) } }
    }

    /// Bytes currently held idle in the cache.
    var cachedBytes: Int { state.withLock { $0.cachedBytes } }
}

/// Process-wide controls of TensorKit's memory.
public enum TensorMemory {
    /// Frees the idle tensor buffers TensorKit keeps for reuse (it keeps them so that training
    /// steps of equal shapes do not pay for fresh pages). Safe to call at any time.
    public static func releaseCachedBuffers() { BufferPool.shared.purge() }

    /// Bytes of idle tensor buffers currently kept for reuse.
    public static var cachedBytes: Int { BufferPool.shared.cachedBytes }

    /// Bytes of tensor buffers in use now (held by tensors, saved activations, scratch space;
    /// not the idle cache).
    public static var liveBytes: Int { BufferPool.shared.liveBytes }

    /// The largest ``liveBytes`` since the process started or since ``resetPeakLiveBytes()``.
    public static var peakLiveBytes: Int { BufferPool.shared.peakLiveBytes }

    /// Starts a new ``peakLiveBytes`` measurement from the current ``liveBytes``.
    public static func resetPeakLiveBytes() { BufferPool.shared.resetPeak() }
}

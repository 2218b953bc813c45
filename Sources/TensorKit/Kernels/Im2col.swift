/// The geometry of a 2-D convolution or pooling window over NCHW maps.
struct ConvGeometry: Equatable {
    var batch, inChannels, height, width: Int
    var outChannels: Int
    var kernelH, kernelW: Int
    var strideH, strideW: Int
    var padH, padW: Int

    var outHeight: Int { (height + 2 * padH - kernelH) / strideH + 1 }
    var outWidth: Int { (width + 2 * padW - kernelW) / strideW + 1 }
    /// Output positions per image (GEMM columns per image).
    var plane: Int { outHeight * outWidth }
    /// The GEMM reduction length: one row of the unfolded input per (channel, ki, kj).
    var patch: Int { inChannels * kernelH * kernelW }
    /// A 1×1, stride-1, unpadded convolution reads the input as the GEMM operand directly.
    var isPointwise: Bool { kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0 }
    var flops: Double { 2 * Double(batch) * Double(outChannels) * Double(plane) * Double(patch) }
}

/// im2col / col2im for one image, over a range of input channels.
enum Im2col {
    /// The output columns `lo..<hi` whose input column `ow * stride - pad + k` lies in `0..<width`.
    @inline(__always)
    static func validRange(out: Int, size: Int, stride: Int, pad: Int, k: Int) -> (Int, Int) {
        let first = pad - k
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let lastNum = size - 1 + pad - k
        let hi = lastNum < 0 ? 0 : min(out, lastNum / stride + 1)
        return (min(lo, hi), hi)
    }

    /// Unfolds channels `c0..<c1` of one image `x` (`[C, H, W]`) into rows of `col`
    /// (row `(c·kh + ki)·kw + kj`, `plane` columns, row stride `ld`), zero where padded.
    static func unfold(
        _ x: UnsafePointer<Float>, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>,
        ld: Int, channels c0: Int, _ c1: Int
    ) {
        let h = g.height, w = g.width, ho = g.outHeight, wo = g.outWidth
        let sh = g.strideH, sw = g.strideW, ph = g.padH, pw = g.padW
        for c in c0..<c1 {
            let xc = x + c * h * w
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = col + ((c * g.kernelH + ki) * g.kernelW + kj) * ld
                    let (lo, hi) = validRange(out: wo, size: w, stride: sw, pad: pw, k: kj)
                    for oh in 0..<ho {
                        let d = row + oh * wo
                        let ih = oh * sh - ph + ki
                        if ih < 0 || ih >= h {
                            Short.zero(d, count: wo)
                            continue
                        }
                        Short.zero(d, count: lo)
                        Short.zero(d + hi, count: wo - hi)
                        let src = xc + ih * w - pw + kj
                        if sw == 1 {
                            Short.copy(d + lo, src + lo, count: hi - lo)
                        } else if sw == 2 {
                            Short.copyEven(d, src, from: lo, to: hi)
                        } else {
                            var ow = lo
                            while ow < hi { d[ow] = src[ow * sw]; ow += 1 }
                        }
                    }
                }
            }
        }
    }

    /// Folds rows of `col` back, *adding* into channels `c0..<c1` of `dx` (`[C, H, W]`):
    /// the adjoint of ``unfold(_:_:into:ld:channels:_:)``.
    static func fold(
        _ col: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>,
        channels c0: Int, _ c1: Int
    ) {
        let h = g.height, w = g.width, ho = g.outHeight, wo = g.outWidth
        let sh = g.strideH, sw = g.strideW, ph = g.padH, pw = g.padW
        for c in c0..<c1 {
            let xc = dx + c * h * w
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = col + ((c * g.kernelH + ki) * g.kernelW + kj) * ld
                    let (lo, hi) = validRange(out: wo, size: w, stride: sw, pad: pw, k: kj)
                    if hi <= lo { continue }
                    for oh in 0..<ho {
                        let ih = oh * sh - ph + ki
                        if ih < 0 || ih >= h { continue }
                        let s = row + oh * wo
                        let dst = xc + ih * w - pw + kj
                        if sw == 1 {
                            for ow in lo..<hi { dst[ow] += s[ow] }
                        } else {
                            var ow = lo
                            while ow < hi { dst[ow * sw] += s[ow]; ow += 1 }
                        }
                    }
                }
            }
        }
    }
}

/// Copies and fills of short rows (a feature-map row is often 4-108 floats) without a libc call
/// per row: `memcpy`/`memset` call overhead dominated im2col on the small late-stage maps.
enum Short {
    @inline(__always)
    static func copy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count: Int) {
        if count > 24 { d.update(from: s, count: count); return }
        var i = 0
        let rd = UnsafeMutableRawPointer(d), rs = UnsafeRawPointer(s)
        while i + 8 <= count {
            rd.storeBytes(of: rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { d[i] = s[i]; i += 1 }
    }

    /// `d[i] = s[2 i]` for `i` in `lo..<hi` (a stride-2 row), sixteen at a time from the even
    /// lanes of two loads. The vector loads read `s` only up to `2 hi - 3`, inside the row.
    @inline(__always)
    static func copyEven(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, from lo: Int, to hi: Int) {
        var i = lo
        while i + 16 < hi {
            let r = UnsafeRawPointer(s + 2 * i)
            let a = r.loadUnaligned(as: SIMD16<Float>.self), b = r.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(d + i).storeBytes(of: SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf), as: SIMD16<Float>.self)
            i += 16
        }
        while i < hi { d[i] = s[2 * i]; i += 1 }
    }

    @inline(__always)
    static func zero(_ d: UnsafeMutablePointer<Float>, count: Int) {
        if count <= 0 { return }
        if count > 24 { d.update(repeating: 0, count: count); return }
        var i = 0
        let rd = UnsafeMutableRawPointer(d)
        while i + 8 <= count {
            rd.storeBytes(of: SIMD8<Float>(repeating: 0), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { d[i] = 0; i += 1 }
    }
}

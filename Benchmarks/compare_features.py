#!/usr/bin/env python3
"""Are the log-Mel features Swift trains on the ones PyTorch trains on?

    python3 Benchmarks/compare_features.py SWIFT_CACHE_DIR PYTORCH_FEATURES.npz

SWIFT_CACHE_DIR is an `audiocnn train --cache` folder (entries `??/<key>.f32`: 16-byte header
"ESC50FC1", mels, frames, then float32 [mels, frames]); PYTORCH_FEATURES.npz is the
`--features-cache` file of Benchmarks/train_pytorch.py for the same split. The cache is keyed by
content hashes, not file names, so every Swift entry is matched to its nearest PyTorch clip
(Euclidean); a correct front-end gives a one-to-one matching with differences of rounding size.
"""
import glob
import os
import sys

import numpy as np


def main():
    cache, npz = sys.argv[1], sys.argv[2]
    z = np.load(npz)
    pt = np.concatenate([z["xtr"], z["xva"]])[:, 0]
    pt = pt.reshape(len(pt), -1).astype(np.float64)
    entries = sorted(glob.glob(os.path.join(cache, "*", "*.f32")))
    sw = np.stack([np.frombuffer(open(f, "rb").read()[16:], dtype="<f4") for f in entries]).astype(np.float64)
    print(f"Swift cache: {sw.shape[0]} clips x {sw.shape[1]} values; PyTorch: {pt.shape[0]} x {pt.shape[1]}")
    d = (sw ** 2).sum(1)[:, None] + (pt ** 2).sum(1)[None, :] - 2 * sw @ pt.T
    match = d.argmin(1)
    err = np.abs(sw - pt[match])
    print(f"distinct nearest PyTorch clips: {len(set(match.tolist()))} of {len(match)}")
    print(f"|Swift - PyTorch| in dB: max {err.max():.4g}, mean {err.mean():.3g}; "
          f"per-clip max: median {np.median(err.max(1)):.3g}, 99th percentile {np.percentile(err.max(1), 99):.3g}")
    print(f"value range PyTorch [{pt.min():.1f}, {pt.max():.1f}] Swift [{sw.min():.1f}, {sw.max():.1f}]; "
          f"mean/std PyTorch {pt.mean():.3f}/{pt.std():.3f} Swift {sw.mean():.3f}/{sw.std():.3f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The hostile-request table of Docs/Reliability.md, over real sockets.

    python3 Scripts/reliability/hostile_requests.py [--binary .build/release/audiocnn]
        [--checkpoint C.safetensors] [--request-timeout 5] [--markdown]

Starts `audiocnn serve` (default limits, except --request-timeout so the slow-client rows take
seconds rather than the default 30 s), then sends each hostile request on its own connection and
records the status (or "closed"), the time to answer, and the server's RSS (VmRSS, sampled every
2 ms) before the request, at its peak during it, and after the next good request, which must get
200. Without --checkpoint, a randomly initialised reference ResNet-34 (50 classes) is exported
to a temporary checkpoint, so RSS figures are those of the real model.
"""
import argparse
import base64
import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_checkpoint(path):
    sys.path.insert(0, os.path.join(ROOT, "Scripts", "reference"))
    import torch
    from safetensors.torch import save_file
    from audiocnn_model import AudioCNN, AudioCNNConfig
    from checkpoint_format import FORMAT, FORMAT_VERSION, mel_config_json
    torch.manual_seed(0)
    config = AudioCNNConfig()
    model = AudioCNN(config).eval()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path, metadata={
        "format": FORMAT, "format_version": FORMAT_VERSION, "classes": json.dumps([f"class_{i}" for i in range(50)]),
        "model_config": config.to_json(), "mel_config": mel_config_json(44100, 1024, 512, 128, 0.0, None), "epoch": "0"})


class RSS:
    """Samples the server's resident set size in a thread; `window()` gives the peak since reset."""
    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0, True
        threading.Thread(target=self.loop, daemon=True).start()

    def now(self):
        with open(f"/proc/{self.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024

    def loop(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.now())
            except (FileNotFoundError, ProcessLookupError, AttributeError):
                return  # the server has exited
            time.sleep(0.002)

    def reset(self):
        self.peak = self.now()


def wav(samples, rate, channels=1, fmt=1, bits=16):
    """A RIFF/WAVE file written field by field (headers no encoder would write)."""
    payload = samples if isinstance(samples, bytes) else samples.tobytes()
    align = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, fmt, channels, rate & 0xFFFFFFFF, (rate * align) & 0xFFFFFFFF, align, bits) +
            b"data" + struct.pack("<I", len(payload)) + payload)


def body(audio, **extra):
    return json.dumps({"audio_data": base64.b64encode(audio).decode(), **extra}).encode()


def exchange(port, head, payload=b"", pace=None, read_timeout=120):
    """Sends head + payload (a byte every `pace` seconds if given) and reads until the server
    closes or a whole response arrived. Returns (status or 'closed', seconds)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(read_timeout)
    start = time.time()
    data = head + payload

    def send():
        try:
            if pace is None:
                s.sendall(data)
            else:
                for i in range(len(data)):
                    s.sendall(data[i:i + 1])
                    time.sleep(pace)
        except OSError:
            pass  # the server closed the connection or answered early
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
            m = re.search(rb"content-length: *(\d+)", received, re.I)
            end = received.find(b"\r\n\r\n")
            if m and end >= 0 and len(received) >= end + 4 + int(m.group(1)):
                break
    except (ConnectionResetError, socket.timeout):
        pass
    elapsed = time.time() - start
    s.close()
    if not received:
        return "closed", elapsed, b""
    status = int(received.split(b" ", 2)[1])
    return status, elapsed, received[received.find(b"\r\n\r\n") + 4:]


def chunked(payload, size=1 << 16):
    out = bytearray()
    for i in range(0, len(payload), size):
        part = payload[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


def post_head(length, content_type="application/json"):
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


def post(port, payload, **kw):
    return exchange(port, post_head(len(payload), kw.pop("content_type", "application/json")), payload, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "audiocnn"))
    ap.add_argument("--checkpoint")
    ap.add_argument("--request-timeout", type=float, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hostile-")
    checkpoint = args.checkpoint or os.path.join(tmp, "resnet34.safetensors")
    if not args.checkpoint:
        make_checkpoint(checkpoint)
    server = subprocess.Popen([args.binary, "serve", "--checkpoint", checkpoint, "--port", "0",
                               "--request-timeout", str(args.request_timeout)], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        rss = RSS(server.pid)

        rng = np.random.default_rng(0)
        t = np.arange(int(44100 * 5)) / 44100
        clip = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)) * 32767
        good = body(wav(clip.astype("<i2"), 44100))
        for _ in range(3):
            assert post(port, good)[0] == 200
        ten_min = wav((rng.standard_normal(44100 * 600) * 3000).astype("<i2"), 44100)
        buf = io.BytesIO()
        sf.write(buf, np.zeros(44100 * 600, dtype=np.float32), 44100, format="FLAC", subtype="PCM_16")
        flac_10min = buf.getvalue()
        tone16k = (np.sin(np.arange(3200) * 0.1) * 10000).astype("<i2")
        nan = (tone16k / 32768).astype("<f4")
        nan[100], nan[200] = np.nan, np.inf
        nested = b"[" * 1_000_000 + b"]" * 1_000_000
        over = b'{"audio_data": "' + b"A" * (40 << 20) + b'"}'

        def many_slow(n=200):
            # n connections each holding half a request head, all at once.
            sockets = []
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
                sockets.append(s)
            start = time.time()
            for s in sockets:
                s.settimeout(60)
                try:
                    closed = s.recv(1) == b""
                except (ConnectionResetError, socket.timeout):
                    closed = True
                s.close()
                if not closed:
                    return "open", time.time() - start, b""
            return "all closed", time.time() - start, b""

        cases = [
            ("valid 5 s WAV (reference row)", lambda: post(port, good)),
            ("body over the 32 MiB limit (40 MiB of JSON)", lambda: post(port, over)),
            ("40 MiB chunked body (no Content-Length)", lambda: exchange(
                port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n", chunked(over))),
            ("Content-Length: 10 GB, 1 MB sent", lambda: exchange(port, post_head(10 << 30), b"A" * (1 << 20))),
            ("deeply nested JSON (10^6 '[')", lambda: post(port, nested)),
            ("base64 of 10 min of 44.1 kHz WAV (70 MB)", lambda: post(port, body(ten_min))),
            (f"base64 of 10 min of FLAC ({len(flac_10min) // 1024} kB)", lambda: post(port, body(flac_10min))),
            ("1-sample audio", lambda: post(port, body(wav(tone16k[:1], 16000)))),
            ("NaN/Inf float WAV", lambda: post(port, body(wav(nan, 16000, fmt=3, bits=32)))),
            ("0 Hz sample rate", lambda: post(port, body(wav(tone16k, 0)))),
            ("10 MHz sample rate", lambda: post(port, body(wav(tone16k, 10_000_000)))),
            ("200 channels", lambda: post(port, body(wav(np.zeros(200 * 800, dtype="<i2"), 16000, channels=200)))),
            ("truncated WAV header (30 bytes)", lambda: post(port, body(wav(tone16k, 16000)[:30]))),
            ("malformed base64", lambda: post(port, b'{"audio_data": "UklGR***not base64***"}')),
            ("wrong Content-Type (audio/wav body)", lambda: post(port, wav(tone16k, 16000), content_type="audio/wav")),
            ("200 kB header line", lambda: exchange(port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 +
                                                     b"\r\nContent-Length: 2\r\n\r\n{}")),
            ("truncated HTTP headers, then silence", lambda: exchange(port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")),
            ("slow-loris headers (1 byte/s)", lambda: exchange(port, post_head(1000), pace=1.0)),
            ("slow-loris body (1 byte/s)", lambda: exchange(port, post_head(len(good)), good, pace=1.0)),
            ("200 slow-loris connections at once", many_slow),
        ]
        rows = []
        for name, send in cases:
            time.sleep(0.3)
            before = rss.now()
            rss.reset()
            during_good = None
            if "slow-loris" in name or "silence" in name:
                # While the slow client holds its connection, another client is served.
                result = {}
                th = threading.Thread(target=lambda: result.setdefault("r", send()))
                th.start()
                time.sleep(1.5)
                during_good = post(port, good)[:2]
                th.join()
                status, seconds, payload = result["r"]
            else:
                status, seconds, payload = send()
            peak = rss.peak
            code = ""
            if payload:
                try:
                    code = json.loads(payload).get("error", "")
                except ValueError:
                    code = "(not JSON)"
            after_status = post(port, good)[0]
            time.sleep(0.3)
            after = rss.now()
            rows.append({"request": name, "status": status, "error": code, "seconds": round(seconds, 3),
                         "rss_before_mb": before, "rss_peak_mb": peak, "rss_after_mb": after,
                         "next_good": after_status, "good_during": during_good and during_good[0],
                         "good_during_s": during_good and round(during_good[1], 3)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        if args.markdown:
            print("| request | answer | time (s) | RSS before / peak / after (MB) | next good request |")
            print("|---|---|---|---|---|")
            for r in rows:
                answer = f"{r['status']} `{r['error']}`" if r["error"] else str(r["status"])
                if r["good_during"]:
                    answer += f" (meanwhile another client: {r['good_during']} in {r['good_during_s']} s)"
                print(f"| {r['request']} | {answer} | {r['seconds']} | {r['rss_before_mb']} / {r['rss_peak_mb']} / "
                      f"{r['rss_after_mb']} | {r['next_good']} |")
        else:
            print(json.dumps(rows, indent=1))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drives headless Chromium against `audiocnn serve`: loads the page, uploads a clip through the
file input, waits for the result and asserts the rendered DOM (three predictions, one canvas per
feature map the API returned, each fully drawn and not blank), then saves a screenshot. Then
uploads a 12-s recording: the page must draw the timeline of its windows (POST /scan), and a
click on a window must show that window's predictions (POST / with start and end).

Talks to Chromium over the DevTools protocol (websocket-client from PyPI); everything else is the
standard library plus numpy/soundfile to synthesise the clip (written to a temporary directory).

Usage: python3 Scripts/check_browser.py --audiocnn .build/release/audiocnn --checkpoint C --out DIR
"""
import argparse
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import soundfile
import websocket


class DevTools:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def make_clip(path, seconds=3.0, rate=44100):
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(7)
    v = 0.3 * np.sin(2 * np.pi * (200 * t + 600 * t * t)) * (0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    v += 0.15 * np.sin(2 * np.pi * 1800 * t) * (t > 1.2) + 0.03 * rng.standard_normal(t.size)
    soundfile.write(path, v.astype(np.float32), rate, subtype="PCM_16")


def start_server(audiocnn, checkpoint):
    proc = subprocess.Popen([audiocnn, "serve", "--checkpoint", checkpoint, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        print("server:", line.rstrip())
        m = re.search(r"listening on (http://[\d.]+:\d+/)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise RuntimeError("the server did not start")


def start_chromium(profile, width, height):
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    proc = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--no-first-run",
                             f"--window-size={width},{height}", "--hide-scrollbars", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(port_file):
        time.sleep(0.1)
    time.sleep(0.2)
    port = int(open(port_file).read().split()[0])
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            pages = [t for t in targets if t["type"] == "page"]
            if pages:
                return proc, pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("no page target in chromium")


CHECK_JS = r"""
(() => {
  const predictions = [...document.querySelectorAll('#predictions .prediction')].map(li => ({
    name: li.querySelector('.name').textContent, pct: li.querySelector('.pct').textContent,
    width: li.querySelector('.bar > span').style.width }));
  const maps = [...document.querySelectorAll('canvas.feature-map')].map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let drawn = 0; const colours = new Set();
    for (let i = 0; i < d.length; i += 4) { if (d[i + 3] === 255) drawn++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }
    const caption = c.parentElement.querySelector('.fm-name').textContent;
    return { name: c.dataset.name, caption, width: c.width, height: c.height, drawn, pixels: d.length / 4, colours: colours.size };
  });
  const spec = document.getElementById('spectrogram');
  const sd = spec.getContext('2d').getImageData(0, 0, spec.width, spec.height).data;
  const specColours = new Set(); for (let i = 0; i < sd.length; i += 4) specColours.add((sd[i] << 16) | (sd[i + 1] << 8) | sd[i + 2]);
  return { state: document.body.dataset.state, status: document.getElementById('status').textContent,
           predictions, maps, spectrogram: { width: spec.width, height: spec.height, colours: specColours.size },
           xTicks: document.querySelectorAll('#spec-x span').length, yTicks: document.querySelectorAll('#spec-y span').length,
           colourbarLabels: document.querySelectorAll('#spec-colorbar-labels span').length,
           scrollHeight: document.documentElement.scrollHeight,
           timelineHidden: document.getElementById('timeline-card').hidden };
})()
"""


def post(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


def check_timeline(dt, url, work, out):
    """A 12-s upload gets a timeline with one column per window of POST /scan; clicking the third
    window shows the predictions POST / gives for that window alone."""
    failures = []
    long_clip = os.path.join(work, "long.wav")
    make_clip(long_clip, seconds=12.0)
    audio = base64.b64encode(open(long_clip, "rb").read()).decode()
    scan = post(url + "scan", {"audio_data": audio, "window": 5, "hop": 2.5})
    root = dt.call("DOM.getDocument")["root"]["nodeId"]
    node = dt.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
    dt.evaluate("document.body.dataset.state = 'idle'")
    dt.call("DOM.setFileInputFiles", files=[long_clip], nodeId=node)
    dt.wait_for("['done', 'error'].includes(document.body.dataset.state) && !document.getElementById('timeline-card').hidden"
                " || document.body.dataset.state === 'error'", 120, "the timeline")
    timeline = dt.evaluate("""(() => { const c = document.getElementById('timeline');
        return { width: c.width, height: c.height, labels: [...document.querySelectorAll('#timeline-labels span')].map(s => s.textContent),
                 state: document.body.dataset.state, status: document.getElementById('status').textContent }; })()""")
    if timeline["state"] != "done":
        return [f"the 12-s upload ended in state {timeline['state']}: {timeline['status']}"]
    if timeline["width"] != len(scan["windows"]):
        failures.append(f"timeline has {timeline['width']} columns, POST /scan {len(scan['windows'])} windows")
    if timeline["height"] != len(timeline["labels"]) or not 1 <= timeline["height"] <= 6:
        failures.append(f"timeline rows {timeline['height']} vs labels {timeline['labels']}")
    # Click the middle of the third column.
    pick = 2
    dt.evaluate(f"""(() => {{ const c = document.getElementById('timeline'), r = c.getBoundingClientRect();
        document.body.dataset.state = 'idle';
        c.dispatchEvent(new MouseEvent('click', {{ clientX: r.left + ({pick} + 0.5) / c.width * r.width,
                                                    clientY: r.top + r.height / 2, bubbles: true }})); }})()""")
    dt.wait_for("['done', 'error'].includes(document.body.dataset.state)", 120, "the clicked window")
    window = scan["windows"][pick]
    api = post(url, {"audio_data": audio, "start": window["start"], "end": window["end"]})
    shown = dt.evaluate("""(() => ({ label: document.getElementById('file-name').textContent,
        names: [...document.querySelectorAll('#predictions .name')].map(n => n.textContent),
        duration: document.getElementById('waveform-meta').textContent }))()""")
    if f"window {window['start']:.1f}–{window['end']:.1f} s" not in shown["label"]:
        failures.append(f"after the click the page says {shown['label']!r}")
    expected = [p["class"].replace("_", " ") for p in api["predictions"]]
    if shown["names"] != expected:
        failures.append(f"clicked window shows {shown['names']}, POST / of that window says {expected}")
    if not shown["duration"].startswith("5.00 s"):
        failures.append(f"clicked window's waveform is {shown['duration']!r}, expected 5.00 s")
    shot = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    with open(os.path.join(out, "page-timeline.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"timeline: {timeline['width']} windows x {timeline['height']} classes {timeline['labels']}; "
          f"window {pick} shows {shown['names']}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--audiocnn", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="audiocnn-browser-")
    clip = os.path.join(work, "clip.wav")
    make_clip(clip)

    server, chrome = None, None
    failures = []
    try:
        server, url = start_server(args.audiocnn, args.checkpoint)
        # What the API returns for the clip, to compare the page against.
        body = json.dumps({"audio_data": base64.b64encode(open(clip, "rb").read()).decode()}).encode()
        api = json.load(urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})))
        chrome, ws_url = start_chromium(os.path.join(work, "profile"), 1400, 1000)
        dt = DevTools(ws_url)
        dt.call("Page.enable")
        dt.call("Runtime.enable")
        dt.call("DOM.enable")
        dt.call("Page.navigate", url=url)
        dt.wait_for("document.readyState === 'complete' && document.getElementById('model-info').classList.contains('ok')", 30, "the page and /health")
        root = dt.call("DOM.getDocument")["root"]["nodeId"]
        node = dt.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        dt.call("DOM.setFileInputFiles", files=[clip], nodeId=node)
        dt.wait_for("['done', 'error'].includes(document.body.dataset.state)", 120, "the analysis")
        result = dt.evaluate(CHECK_JS)

        if result["state"] != "done":
            failures.append(f"the page ended in state {result['state']}: {result['status']}")
        preds = result["predictions"]
        if len(preds) != 3:
            failures.append(f"{len(preds)} predictions shown, expected 3")
        expected_names = [p["class"].replace("_", " ") for p in api["predictions"]]
        if [p["name"] for p in preds] != expected_names:
            failures.append(f"predictions {[p['name'] for p in preds]} differ from the API's {expected_names}")
        for p, q in zip(preds, api["predictions"]):
            if p["pct"] != f"{q['confidence'] * 100:.1f}%":
                failures.append(f"{p['name']}: shows {p['pct']}, the API says {q['confidence']}")
        maps = {m["name"]: m for m in result["maps"]}
        if list(maps) != list(api["visualization"]):
            failures.append(f"feature-map canvases {list(maps)} differ from the API's maps {list(api['visualization'])}")
        varied = 0
        for name, m in maps.items():
            h, w = api["visualization"].get(name, {}).get("shape", [0, 0])
            if (m["height"], m["width"]) != (h, w):
                failures.append(f"{name}: canvas {m['height']}x{m['width']}, map {h}x{w}")
            if m["drawn"] != m["pixels"] or m["pixels"] == 0:
                failures.append(f"{name}: {m['drawn']} of {m['pixels']} pixels drawn")
            if m["caption"] != name:
                failures.append(f"{name}: labelled {m['caption']}")
            flat = [v for row in api["visualization"].get(name, {}).get("values", []) for v in row]
            if len(set(flat)) > 1:
                varied += 1
                if m["colours"] < 2:
                    failures.append(f"{name}: blank canvas for a map with {len(set(flat))} distinct values")
        spec = result["spectrogram"]
        if [spec["height"], spec["width"]] != api["input_spectrogram"]["shape"] or spec["colours"] < 16:
            failures.append(f"spectrogram canvas {spec}")
        if result["xTicks"] < 2 or result["yTicks"] < 2 or result["colourbarLabels"] < 2:
            failures.append(f"spectrogram axes/colour scale missing: {result['xTicks']} x ticks, {result['yTicks']} y ticks, {result['colourbarLabels']} colour labels")
        if not result["timelineHidden"]:
            failures.append("a 3-s clip shows a timeline; only recordings longer than one window should")
        errors = [e for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
        if errors:
            failures.append(f"JavaScript exceptions: {errors[:2]}")

        # Full-page screenshot.
        height = min(int(result["scrollHeight"]), 6000)
        dt.call("Emulation.setDeviceMetricsOverride", width=1400, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        shot = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path = os.path.join(args.out, "page.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        with open(os.path.join(args.out, "dom.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(f"screenshot: {path}; {len(preds)} predictions {[p['name'] + ' ' + p['pct'] for p in preds]}; "
              f"{len(maps)} feature-map canvases ({varied} with varying values); spectrogram {spec['height']}x{spec['width']}")
        failures += check_timeline(dt, url, work, args.out)
    finally:
        for proc in (chrome, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("browser check FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("browser check passed")


if __name__ == "__main__":
    main()

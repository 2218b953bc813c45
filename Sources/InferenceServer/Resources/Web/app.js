// AudioCNN page: upload or record a clip, POST it to the server, draw what comes back.
// Plain JavaScript, no build step. The response format is the reference service's (Docs/API.md).
"use strict";

const $ = (id) => document.getElementById(id);
let hopLength = 512;

// ---------- colour maps ----------
function lerpStops(stops, t) {
  t = Math.min(1, Math.max(0, t));
  const x = t * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}
// Magma (matplotlib), sampled at 9 points: perceptually uniform for a one-sided quantity (dB).
const MAGMA = [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
  [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]];
// RdBu reversed: blue negative, white zero, red positive, for signed activations.
const RDBU = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [247, 247, 247],
  [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];

function flatten(values) {
  const h = values.length, w = h ? values[0].length : 0, out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) out.set(values[r], r * w);
  return { h, w, data: out };
}

// Draws values [h][w] into the canvas at native resolution, row 0 at the bottom.
function drawHeat(canvas, plane, colour) {
  const { h, w, data } = plane;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  for (let r = 0; r < h; r++) {
    const y = h - 1 - r;
    for (let c = 0; c < w; c++) {
      const [R, G, B] = colour(data[r * w + c]), o = (y * w + c) * 4;
      img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// Hover: the value under the cursor, with the row (from the bottom) and column.
function attachHover(canvas, plane, describe) {
  const tip = $("tooltip");
  canvas.addEventListener("mousemove", (e) => {
    const rect = canvas.getBoundingClientRect();
    const c = Math.min(plane.w - 1, Math.floor((e.clientX - rect.left) / rect.width * plane.w));
    const r = plane.h - 1 - Math.min(plane.h - 1, Math.floor((e.clientY - rect.top) / rect.height * plane.h));
    tip.textContent = describe(r, c, plane.data[r * plane.w + c]);
    tip.hidden = false;
    tip.style.left = (e.clientX + 14) + "px";
    tip.style.top = (e.clientY + 12) + "px";
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
}

const fmt = (v, d = 3) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)) ? v.toExponential(2) : v.toFixed(d);

// ---------- rendering ----------
function renderPredictions(predictions) {
  const list = $("predictions");
  list.replaceChildren();
  for (const p of predictions) {
    const li = document.createElement("li");
    li.className = "prediction";
    const pct = (p.confidence * 100).toFixed(1) + "%";
    li.innerHTML = `<div class="label"><span class="name"></span><span class="pct">${pct}</span></div>` +
      `<div class="bar"><span style="width:${Math.max(0.5, p.confidence * 100)}%"></span></div>`;
    li.querySelector(".name").textContent = p.class.replace(/_/g, " ");
    list.appendChild(li);
  }
}

function renderWaveform(wave) {
  const canvas = $("waveform"), dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 900, cssH = canvas.clientHeight || 180;
  canvas.width = cssW * dpr; canvas.height = cssH * dpr;
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  const v = wave.values, n = v.length, pad = 22, mid = (cssH - pad) / 2;
  let peak = 1e-9;
  for (const x of v) peak = Math.max(peak, Math.abs(x));
  ctx.fillStyle = "#171e2e"; ctx.fillRect(0, 0, cssW, cssH);
  ctx.strokeStyle = "#2a3449"; ctx.beginPath(); ctx.moveTo(0, mid); ctx.lineTo(cssW, mid); ctx.stroke();
  ctx.strokeStyle = "#ff8a3d"; ctx.lineWidth = 1; ctx.beginPath();
  for (let i = 0; i < n; i++) {
    const x = i / Math.max(1, n - 1) * cssW, y = mid - v[i] / peak * (mid - 4);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  }
  ctx.stroke();
  // Time axis.
  ctx.fillStyle = "#8d97ad"; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "center";
  const ticks = niceTicks(0, wave.duration, 8);
  for (const t of ticks) {
    const x = t / wave.duration * cssW;
    ctx.fillText(t.toFixed(t < 1 && ticks.length > 1 && ticks[1] < 1 ? 1 : 1) + " s", Math.min(cssW - 14, Math.max(14, x)), cssH - 6);
  }
  $("waveform-meta").textContent = `${wave.duration.toFixed(2)} s · ${wave.sample_rate} Hz · peak ${peak.toFixed(3)}`;
}

function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toFixed(6));
  return ticks;
}

function renderSpectrogram(spec, sampleRate) {
  const plane = flatten(spec.values);
  let lo = Infinity, hi = -Infinity;
  for (const v of plane.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!(hi > lo)) hi = lo + 1;
  const canvas = $("spectrogram");
  drawHeat(canvas, plane, (v) => lerpStops(MAGMA, (v - lo) / (hi - lo)));
  const secondsPerFrame = hopLength / sampleRate;
  attachHover(canvas, plane, (r, c, v) => `t ${(c * secondsPerFrame).toFixed(2)} s · mel bin ${r} · ${v.toFixed(1)} dB`);

  // Axes: time in seconds (frame × hop / rate), mel bins from the bottom.
  const x = $("spec-x"), y = $("spec-y"), total = (plane.w - 1) * secondsPerFrame;
  x.replaceChildren(); y.replaceChildren();
  for (const t of niceTicks(0, total, 10)) {
    const s = document.createElement("span");
    s.style.left = (t / Math.max(total, 1e-9) * 100) + "%";
    s.textContent = t.toFixed(total < 2 ? 1 : (Number.isInteger(t) ? 0 : 1));
    x.appendChild(s);
  }
  for (const b of niceTicks(0, plane.h - 1, 6)) {
    const s = document.createElement("span");
    s.style.top = ((1 - (b + 0.5) / plane.h) * 100) + "%";
    s.textContent = b;
    y.appendChild(s);
  }
  // Colour bar with dB labels.
  const bar = $("spec-colorbar"), bctx = bar.getContext("2d");
  for (let i = 0; i < bar.height; i++) {
    const [R, G, B] = lerpStops(MAGMA, 1 - i / (bar.height - 1));
    bctx.fillStyle = `rgb(${R | 0},${G | 0},${B | 0})`; bctx.fillRect(0, i, bar.width, 1);
  }
  const labels = $("spec-colorbar-labels");
  labels.replaceChildren();
  for (const d of niceTicks(lo, hi, 6)) {
    const s = document.createElement("span");
    s.style.top = ((1 - (d - lo) / (hi - lo)) * 100) + "%";
    s.textContent = `${d.toFixed(0)} dB`;
    labels.appendChild(s);
  }
  $("spectrogram-meta").textContent = `${plane.h} mel bins × ${plane.w} frames · ${lo.toFixed(0)} to ${hi.toFixed(0)} dB`;
}

function renderFeatureMaps(visualization) {
  const root = $("feature-maps");
  root.replaceChildren();
  const groups = new Map();
  for (const [name, map] of Object.entries(visualization)) {
    const stage = name.split(".")[0];
    if (!groups.has(stage)) groups.set(stage, []);
    groups.get(stage).push([name, map]);
  }
  for (const [stage, maps] of groups) {
    const section = document.createElement("div");
    section.className = "stage";
    section.innerHTML = `<h3>${stage === "conv1" ? "stem" : stage}</h3><div class="grid"></div>`;
    const grid = section.querySelector(".grid");
    for (const [name, map] of maps) {
      const plane = flatten(map.values);
      let peak = 0;
      for (const v of plane.data) peak = Math.max(peak, Math.abs(v));
      const scale = peak > 0 ? peak : 1;
      const cell = document.createElement("figure");
      cell.className = "fm";
      cell.style.margin = "0";
      const canvas = document.createElement("canvas");
      canvas.className = "heat feature-map";
      canvas.dataset.name = name;
      drawHeat(canvas, plane, (v) => lerpStops(RDBU, 0.5 + 0.5 * v / scale));
      attachHover(canvas, plane, (r, c, v) => `${name} · row ${r}, col ${c} · ${fmt(v)}`);
      const caption = document.createElement("figcaption");
      caption.className = "caption";
      caption.innerHTML = `<span class="fm-name"></span><span class="shape">${map.shape[0]}×${map.shape[1]} · ±${fmt(peak, 2)}</span>`;
      caption.querySelector(".fm-name").textContent = name;
      cell.append(canvas, caption);
      grid.appendChild(cell);
    }
    root.appendChild(section);
  }
  const bar = $("fm-colorbar"), ctx = bar.getContext("2d");
  for (let i = 0; i < bar.width; i++) {
    const [R, G, B] = lerpStops(RDBU, i / (bar.width - 1));
    ctx.fillStyle = `rgb(${R | 0},${G | 0},${B | 0})`; ctx.fillRect(i, 0, 1, bar.height);
  }
}

// ---------- talking to the server ----------
function setStatus(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

function toBase64(buffer) {
  const bytes = new Uint8Array(buffer), chunk = 0x8000;
  let binary = "";
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  return btoa(binary);
}

// The uploaded clip (base64) and its name, kept so a window of it can be analysed on a click.
let current = null;
const SCAN_WINDOW = 5, SCAN_HOP = 2.5;

async function postJSON(path, payload) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
  return body;
}

function renderAnalysis(body) {
  renderPredictions(body.predictions);
  renderWaveform(body.waveform);
  renderSpectrogram(body.input_spectrogram, body.waveform.sample_rate);
  renderFeatureMaps(body.visualization);
}

async function classify(buffer, label) {
  document.body.dataset.state = "busy";
  setStatus(`Analysing ${label}…`);
  const started = performance.now();
  try {
    current = { audio: toBase64(buffer), label };
    const body = await postJSON("./", { audio_data: current.audio });
    const ms = performance.now() - started;
    $("results").hidden = false;
    $("file-name").textContent = `${label} · ${ms.toFixed(0)} ms round trip`;
    renderAnalysis(body);
    $("timeline-card").hidden = true;
    if (body.waveform.duration > SCAN_WINDOW + 0.5) {
      // Longer than one window: the timeline of the top classes, window by window.
      setStatus(`Scanning ${label} in ${SCAN_WINDOW} s windows…`);
      renderTimeline(await postJSON("scan", { audio_data: current.audio, window: SCAN_WINDOW, hop: SCAN_HOP }));
    }
    setStatus(`Done: ${label}`);
    document.body.dataset.state = "done";
  } catch (error) {
    setStatus(error.message, true);
    document.body.dataset.state = "error";
  }
}

// Rows: the classes with the highest probability in any window (at most 6); columns: windows.
function renderTimeline(scan) {
  const windows = scan.windows, n = windows.length, rows = 6;
  const peak = scan.classes.map((_, c) => Math.max(...windows.map((w) => w.probabilities[c])));
  const order = scan.classes.map((_, c) => c).sort((a, b) => peak[b] - peak[a] || a - b).slice(0, rows);
  const canvas = $("timeline"), labels = $("timeline-labels");
  canvas.width = n; canvas.height = order.length;
  canvas.dataset.windows = String(n);
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(n, order.length);
  order.forEach((c, r) => {
    windows.forEach((w, x) => {
      const [R, G, B] = lerpStops(MAGMA, w.probabilities[c]), o = (r * n + x) * 4;
      img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
    });
  });
  ctx.putImageData(img, 0, 0);
  labels.replaceChildren();
  for (const c of order) {
    const s = document.createElement("span");
    s.style.height = (150 / order.length) + "px";
    s.textContent = scan.classes[c].replace(/_/g, " ");
    labels.appendChild(s);
  }
  const axis = $("timeline-x");
  axis.replaceChildren();
  // Each column is a window; label (about 10 of) them with their start time.
  const every = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < n; i += every) {
    const s = document.createElement("span");
    s.style.left = ((i + 0.5) / n * 100) + "%";
    s.textContent = windows[i].start.toFixed(1);
    axis.appendChild(s);
  }
  $("timeline-pick").hidden = true;
  const hop = n > 1 ? windows[1].start - windows[0].start : SCAN_HOP;
  $("timeline-meta").textContent = `${n} windows of ${SCAN_WINDOW} s every ${hop.toFixed(1)} s · ${scan.duration.toFixed(1)} s`;
  const pick = (e) => {
    const rect = canvas.getBoundingClientRect();
    return windows[Math.min(n - 1, Math.max(0, Math.floor((e.clientX - rect.left) / rect.width * n)))];
  };
  attachHover(canvas, { h: order.length, w: n, data: new Float32Array(order.length * n) }, (r, x) => {
    const c = order[order.length - 1 - r], w = windows[x];
    return `${w.start.toFixed(1)}–${w.end.toFixed(1)} s · ${scan.classes[c]} ${(w.probabilities[c] * 100).toFixed(1)}%`;
  });
  canvas.onclick = (e) => {
    const w = pick(e), i = windows.indexOf(w), mark = $("timeline-pick");
    mark.style.left = (i / n * 100) + "%"; mark.style.width = (100 / n) + "%"; mark.hidden = false;
    showWindow(w);
  };
  $("timeline-card").hidden = false;
}

// Analyses one window of the uploaded clip: predictions, spectrogram and feature maps of it alone.
async function showWindow(w) {
  const what = `${current.label} · window ${w.start.toFixed(1)}–${w.end.toFixed(1)} s`;
  document.body.dataset.state = "busy";
  setStatus(`Analysing ${what}…`);
  try {
    renderAnalysis(await postJSON("./", { audio_data: current.audio, start: w.start, end: w.end }));
    $("file-name").textContent = what;
    setStatus(`Done: ${what}`);
    document.body.dataset.state = "done";
  } catch (error) {
    setStatus(error.message, true);
    document.body.dataset.state = "error";
  }
}

async function classifyFile(file) {
  if (!file) return;
  classify(await file.arrayBuffer(), file.name);
}

// ---------- microphone: raw PCM captured with Web Audio, sent as a 16-bit WAV ----------
function encodeWAV(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2), view = new DataView(buffer);
  const text = (o, s) => { for (let i = 0; i < s.length; i++) view.setUint8(o + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true); text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, samples[i])) * 32767, true);
  return buffer;
}

async function record(seconds = 5) {
  const button = $("record");
  if (!navigator.mediaDevices?.getUserMedia) return setStatus("This browser cannot record (microphone access needs https or localhost).", true);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    return setStatus(`Microphone unavailable: ${error.message}`, true);
  }
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  processor.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(processor); processor.connect(context.destination);
  button.classList.add("recording");
  for (let left = seconds; left > 0; left--) {
    button.textContent = `● Recording… ${left}`;
    await new Promise((r) => setTimeout(r, 1000));
  }
  processor.disconnect(); source.disconnect(); stream.getTracks().forEach((t) => t.stop());
  await context.close();
  button.classList.remove("recording");
  button.textContent = "● Record 5 s";
  const total = chunks.reduce((n, c) => n + c.length, 0), samples = new Float32Array(total);
  let offset = 0;
  for (const c of chunks) { samples.set(c, offset); offset += c.length; }
  classify(encodeWAV(samples, context.sampleRate), `recording (${(total / context.sampleRate).toFixed(1)} s)`);
}

// ---------- wiring ----------
const drop = $("drop"), input = $("file");
drop.addEventListener("click", (e) => { if (e.target.tagName !== "LABEL") input.click(); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
input.addEventListener("change", () => classifyFile(input.files[0]));
for (const type of ["dragenter", "dragover"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); classifyFile(e.dataTransfer.files[0]); });
$("record").addEventListener("click", () => record(5));

fetch("health").then((r) => r.json()).then((h) => {
  hopLength = h.hop_length || hopLength;
  const info = $("model-info");
  info.textContent = `${h.classes} classes · ${h.sample_rate / 1000} kHz · ${h.mel_bins} mel bins`;
  info.classList.add("ok");
}).catch(() => { $("model-info").textContent = "server unreachable"; });

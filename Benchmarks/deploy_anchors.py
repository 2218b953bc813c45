#!/usr/bin/env python3
"""Deployment anchors (issue #15): our `audiocnn bench infer|train` beside the runtimes a user would
deploy instead — ONNX Runtime, OpenVINO (fp32 and bf16) and PyTorch eager (fp32 and bf16 autocast) —
in ONE run, with the same thread count, the same model (Scripts/reference/audiocnn_model.py, random
weights from torch.manual_seed(0)) and the same input shape [N, 1, 128, 431]. Prints a Markdown
table with the ratios and each figure as a fraction of the machine's peak FLOP rate: measured by
`audiocnn bench peak` (FMA and, with AVX512_BF16, vdpbf16ps loops on every thread) when our binary
is there, else estimated from the nominal clock.

    pip install onnx onnxruntime openvino          # torch: pip install torch==2.13.0+cpu --find-links /opt/wheels
    swift build -c release --product audiocnn      # for our column
    python3 Benchmarks/deploy_anchors.py --threads 2 --batches 1,16 --iters 20 --warmup 3 --json deploy.json

Every engine runs in its own subprocess (the engines that do not need torch never import it), and
that subprocess's own peak RSS is taken from os.wait4 (the per-child form of RUSAGE_CHILDREN), so
the peak RSS column is per engine. Inference figures are the median of the timed calls (as
`audiocnn bench infer` reports); training figures are the mean step time (as `audiocnn bench train`
reports). Ratios: for batch-1 latency other/ours, for throughput ours/other; > 1 means we are faster.

Notes:
  * OpenVINO at batch 1 uses PERFORMANCE_HINT=LATENCY and one synchronous request; at batch > 1 it
    uses PERFORMANCE_HINT=THROUGHPUT with an AsyncInferQueue of OPTIMAL_NUMBER_OF_INFER_REQUESTS
    requests (several streams splitting the threads, each request a whole batch), so its batch > 1
    figure is clips/s over all streams and has no per-call latency.
  * `audiocnn bench` always does exactly one warm-up call/step; --warmup applies to the others.
  * The model is exported to ONNX once (dynamic batch axis); ONNX Runtime and OpenVINO load that
    same file. Their logits are checked against PyTorch fp32 on the same random input per batch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
REFERENCE = os.path.join(REPO, "Scripts", "reference")
NUM_CLASSES = 50  # `audiocnn bench` builds both models with 50 classes
MELS, FRAMES = 128, 431
FULL_FORWARD_GFLOP = 7.95  # the issue's figure for one 5-s clip, direct convolution

# Training only, ours with the forward pass's Winograd tiles set (TENSORKIT_WINOGRAD_FORWARD_4X4):
# ours-fwd4x4 at fp32 with it on (F(4x4) in the forward pass too: faster, less precise; fp32's default
# since 2026-12-05, so now the same as ours; ours-fwd2x2 at fp32 with it off),
# ours-bf16-fwd2x2 at bf16 with it off (F(2x2) in the forward pass and the input gradient: bf16's
# default until 2026-12-04). ours-bf16-fwd4x4 (it on at bf16) is now ours-bf16's default, kept by name.
FORWARD_TILES = {"ours-fwd4x4": "1", "ours-fwd2x2": "0", "ours-bf16-fwd4x4": "1", "ours-bf16-fwd2x2": "0"}
ENGINES = ["ours", "ours-bf16", "ours-fwd2x2", "ours-fwd4x4", "ours-bf16-fwd2x2", "ours-bf16-fwd4x4", "ort", "ov-f32",
           "ov-bf16",
           "torch-f32", "torch-bf16"]
TRAIN_ENGINES = ["ours", "ours-bf16", "ours-fwd2x2", "ours-fwd4x4", "ours-bf16-fwd2x2", "ours-bf16-fwd4x4", "torch-f32",
                 "torch-bf16"]
DEFAULT_ENGINES = [e for e in ENGINES if e not in ("ours-fwd4x4", "ours-bf16-fwd4x4")]  # both are the defaults now
BF16_ENGINES = {"ours-bf16", "ov-bf16", "torch-bf16"}  # compared with ours-bf16; the others with ours (fp32)
LABELS = {
    "ours": "ours (audiocnn)",
    "ours-bf16": "ours (audiocnn)",
    "ours-fwd2x2": "ours (audiocnn), forward F(2x2)",
    "ours-fwd4x4": "ours (audiocnn), forward F(4x4)",
    "ours-bf16-fwd4x4": "ours (audiocnn), forward F(4x4)",
    "ours-bf16-fwd2x2": "ours (audiocnn), forward F(2x2)",
    "ort": "ONNX Runtime",
    "ov-f32": "OpenVINO",
    "ov-bf16": "OpenVINO",
    "torch-f32": "PyTorch eager",
    "torch-bf16": "PyTorch autocast",
}


# --------------------------------------------------------------------------------------------------
# Children: each runs one engine on one case and prints one JSON object on its last stdout line.
# --------------------------------------------------------------------------------------------------

def _torch_model(spec: dict):
    import torch
    sys.path.insert(0, REFERENCE)
    from audiocnn_model import AudioCNN, FULL, SMALL
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    config = dataclasses.replace(FULL if spec["model"] == "full" else SMALL, num_classes=NUM_CLASSES)
    return AudioCNN(config)


def _time_calls(fn, warmup: int, iters: int) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _infer_result(batch: int, times: list[float]) -> dict:
    times = sorted(times)
    med = times[len(times) // 2]  # the upper median, as `audiocnn bench infer` takes it
    return {"latency_ms": med * 1e3, "clips_per_s": batch / med, "min_ms": times[0] * 1e3}


def _load_reference(spec: dict):
    import numpy as np
    ref = np.load(os.path.join(spec["workdir"], f"ref_b{spec['batch']}.npz"))
    return ref["x"], ref["logits"]


def child_prepare(spec: dict) -> dict:
    """Builds the model, saves its weights, exports the ONNX file, and writes one random input and
    PyTorch fp32 logits per batch size (the reference the other engines are checked against)."""
    import numpy as np
    import torch
    import torch.nn as nn
    model = _torch_model(spec).eval()
    torch.save(model.state_dict(), os.path.join(spec["workdir"], "model.pt"))

    # Direct-convolution FLOPs of one clip's forward pass: 2 * MACs of every conv and linear layer.
    flops = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            flops[0] += 2 * output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            flops[0] += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        model(torch.zeros(1, 1, MELS, FRAMES))
    for h in handles:
        h.remove()

    class Logits(nn.Module):  # a plain forward(x) -> logits for the exporter
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)

    # Reference inputs and logits first, in eval mode (the exporter restores the training flag of
    # the module it is given, so it must not see a module in train mode either).
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for b in spec["batches"]:
            x = torch.randn(b, 1, MELS, FRAMES, generator=gen)
            np.savez(os.path.join(spec["workdir"], f"ref_b{b}.npz"), x=x.numpy(), logits=model(x).numpy())

    onnx_path = os.path.join(spec["workdir"], "audiocnn.onnx")
    example = torch.randn(1, 1, MELS, FRAMES)
    wrapper = Logits(model).eval()
    exporter = None
    errors = []
    for opset, dynamo in ((17, False), (18, True)):
        try:
            kwargs = {"dynamo": dynamo}
            if dynamo:
                kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
            else:
                kwargs["dynamic_axes"] = {"x": {0: "batch"}, "logits": {0: "batch"}}
            torch.onnx.export(wrapper, (example,), onnx_path, input_names=["x"], output_names=["logits"],
                              opset_version=opset, **kwargs)
            exporter = f"torch.onnx.export(dynamo={dynamo}, opset {opset})"
            break
        except Exception as e:  # noqa: BLE001 — try the other exporter
            errors.append(f"dynamo={dynamo}: {type(e).__name__}: {e}")
    if exporter is None:
        raise SystemExit("ONNX export failed:\n" + "\n".join(errors))
    try:
        import onnx
        onnx.checker.check_model(onnx_path)
    except ImportError:
        pass

    if model.training or wrapper.training:
        raise SystemExit("the model left eval mode during export")
    n_params = sum(p.numel() for p in model.parameters())
    return {"forward_flop_per_clip": flops[0], "params": n_params, "exporter": exporter,
            "onnx_mb": os.path.getsize(onnx_path) / 2**20, "torch": torch.__version__}


def child_torch_infer(spec: dict) -> dict:
    import numpy as np
    import torch
    model = _torch_model(spec)
    model.load_state_dict(torch.load(os.path.join(spec["workdir"], "model.pt")))
    model.eval()
    xr, ref = _load_reference(spec)
    x = torch.from_numpy(xr)
    bf16 = spec["engine"] == "torch-bf16"

    def run():
        with torch.inference_mode():
            if bf16:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return model(x)
            return model(x)

    out = run().float().numpy()
    res = _infer_result(spec["batch"], _time_calls(run, spec["warmup"], spec["iters"]))
    res.update(max_abs_diff=float(np.abs(out - ref).max()), ref_max_abs_logit=float(np.abs(ref).max()),
               precision="bf16 (autocast)" if bf16 else "fp32",
               threads_used=torch.get_num_threads(), version=torch.__version__)
    return res


def child_torch_train(spec: dict) -> dict:
    import torch
    import torch.nn.functional as F
    model = _torch_model(spec)
    model.load_state_dict(torch.load(os.path.join(spec["workdir"], "model.pt")))
    model.train()
    batch = spec["batch"]
    x = torch.randn(batch, 1, MELS, FRAMES, generator=torch.Generator().manual_seed(1))
    y = torch.arange(batch) % NUM_CLASSES  # as `audiocnn bench train` labels its batch
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    bf16 = spec["engine"] == "torch-bf16"

    def step():
        opt.zero_grad(set_to_none=True)
        if bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        else:
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()

    times = _time_calls(step, max(spec["warmup"], 1), spec["iters"])
    mean = sum(times) / len(times)  # the mean step, as `audiocnn bench train` reports
    return {"step_ms": mean * 1e3, "clips_per_s": batch / mean, "precision": "bf16 (autocast)" if bf16 else "fp32",
            "threads_used": torch.get_num_threads(), "version": torch.__version__}


def child_ort(spec: dict) -> dict:
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = spec["threads"]
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(os.path.join(spec["workdir"], "audiocnn.onnx"), so, providers=["CPUExecutionProvider"])
    x, ref = _load_reference(spec)
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: x})[0]
    res = _infer_result(spec["batch"], _time_calls(lambda: sess.run(None, {name: x}), spec["warmup"], spec["iters"]))
    res.update(max_abs_diff=float(np.abs(out - ref).max()), ref_max_abs_logit=float(np.abs(ref).max()),
               precision="fp32", version=ort.__version__,
               providers=sess.get_providers())
    return res


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def child_ov(spec: dict) -> dict:
    import collections
    import numpy as np
    import openvino as ov
    core = ov.Core()
    model = core.read_model(os.path.join(spec["workdir"], "audiocnn.onnx"))
    batch = spec["batch"]
    model.reshape({model.inputs[0].get_any_name(): [batch, 1, MELS, FRAMES]})  # static shape, as deployed
    want = "bf16" if spec["engine"] == "ov-bf16" else "f32"
    throughput = batch > 1 and spec["ov_hint"] != "latency" or spec["ov_hint"] == "throughput"
    config = {"INFERENCE_PRECISION_HINT": want, "INFERENCE_NUM_THREADS": spec["threads"],
              "PERFORMANCE_HINT": "THROUGHPUT" if throughput else "LATENCY"}
    compiled = core.compile_model(model, "CPU", config)
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")  # what the plugin settled on
    used = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
    # What the plugin actually runs each convolution in (the hint can be overridden per layer).
    conv_prec = collections.Counter()
    for op in compiled.get_runtime_model().get_ops():
        rt = op.get_rt_info()
        if "layerType" in rt and rt["layerType"].astype(str) == "Convolution":
            conv_prec[rt["runtimePrecision"].astype(str)] += 1
    x, ref = _load_reference(spec)
    request = compiled.create_infer_request()
    out = np.array(request.infer({0: x})[compiled.outputs[0]], dtype=np.float32)
    res = {"max_abs_diff": float(np.abs(out - ref).max()), "ref_max_abs_logit": float(np.abs(ref).max()),
           "precision_requested": want,
           "precision": used, "conv_runtime_precision": dict(conv_prec), "version": ov.__version__,
           "hint": config["PERFORMANCE_HINT"], "streams": _as_int(compiled.get_property("NUM_STREAMS")),
           "threads_used": int(compiled.get_property("INFERENCE_NUM_THREADS"))}
    if not throughput:
        res.update(_infer_result(batch, _time_calls(lambda: request.infer({0: x}), spec["warmup"], spec["iters"])))
        return res
    nreq = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    queue = ov.AsyncInferQueue(compiled, nreq)

    def round_():  # one batch per request, all requests in flight at once
        for _ in range(nreq):
            queue.start_async({0: x})
        queue.wait_all()

    for _ in range(spec["warmup"]):
        round_()
    t0 = time.perf_counter()
    for _ in range(spec["iters"]):
        round_()
    dt = time.perf_counter() - t0
    res.update(clips_per_s=spec["iters"] * nreq * batch / dt, infer_requests=nreq, latency_ms=None)
    return res


CHILDREN = {"prepare": child_prepare, "torch-infer": child_torch_infer, "torch-train": child_torch_train,
            "ort-infer": child_ort, "ov-infer": child_ov}


# --------------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------------

def run_child(argv: list[str], env: dict, workdir: str, tag: str) -> tuple[dict | None, float, str]:
    """Runs argv with its own stdout/stderr files, reaps it with os.wait4 so the peak RSS is this
    child's own, and returns (last-line JSON or None, peak RSS MiB, error text)."""
    out_path, err_path = os.path.join(workdir, f"{tag}.out"), os.path.join(workdir, f"{tag}.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss / 1024  # Linux: KiB
    stdout = open(out_path).read().strip().splitlines()
    stderr = open(err_path).read().strip()
    if proc.returncode != 0:
        return None, rss, f"exit {proc.returncode}: " + "\n".join(stderr.splitlines()[-6:])
    try:
        return json.loads(stdout[-1]), rss, ""
    except (IndexError, json.JSONDecodeError):
        return None, rss, "no JSON on the last line:\n" + "\n".join((stdout + stderr.splitlines())[-6:])


def python_child(kind: str, spec: dict, env: dict, tag: str) -> tuple[dict | None, float, str]:
    return run_child([sys.executable, os.path.abspath(__file__), "--child", kind, json.dumps(spec)],
                     env, spec["workdir"], tag)


def swift_child(binary: str, mode: str, batch: int, args, env: dict, workdir: str,
                precision: str = "fp32", forward_tiles: str | None = None) -> tuple[dict | None, float, str]:
    cmd = [binary, "bench", mode, "--batch", str(batch), "--iterations", str(args.iters),
           "--model", "resnet34" if args.model == "full" else "small", "--precision", precision, "--json"]
    if forward_tiles is not None:
        env = dict(env, TENSORKIT_WINOGRAD_FORWARD_4X4=forward_tiles)
    tag = f"ours-{precision}{'-fwd' + forward_tiles if forward_tiles else ''}-{mode}-b{batch}"
    res, rss, err = run_child(cmd, env, workdir, tag)
    if res is not None:
        res["precision"] = res.get("precision", precision)
        res["self_reported_peak_rss_mb"] = res.get("peak_rss_mb")
    return res, rss, err


def cpu_peak(threads: int) -> dict:
    """fp32 FMA peak estimate: FLOP/cycle/core x cores used x the clock /proc/cpuinfo reports."""
    info: dict = {"vendor": "?", "family": None, "model_name": "?", "flags": set(), "mhz": [], "processors": 0}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    info["processors"] += 1
                elif key == "vendor_id":
                    info["vendor"] = value
                elif key == "cpu family":
                    info["family"] = int(value)
                elif key == "model name":
                    info["model_name"] = value
                elif key == "flags":
                    info["flags"] = set(value.split())
                elif key == "cpu MHz":
                    info["mhz"].append(float(value))
                elif key == "siblings":
                    info["siblings"] = int(value)
                elif key == "cpu cores":
                    info["cpu_cores"] = int(value)
    except OSError:
        pass
    flags, vendor, family = info["flags"], info["vendor"], info["family"]
    if vendor == "AuthenticAMD" and family == 26:
        per_cycle, why = 64, "AMD family 26 (Zen 5): 2 x 512-bit FMA"
    elif vendor == "AuthenticAMD" and family == 25:
        per_cycle, why = 32, "AMD family 25 (Zen 3/4): 2 x 256-bit FMA"
    elif vendor == "GenuineIntel" and "avx512f" in flags:
        per_cycle, why = 64, "Intel with AVX-512: 2 x 512-bit FMA"
    elif "fma" in flags and "avx2" in flags:
        per_cycle, why = 32, "AVX2 + FMA: 2 x 256-bit FMA (assumed)"
    else:
        per_cycle, why = 16, "no FMA detected (assumed 16)"
    processors = info["processors"] or os.cpu_count() or 1
    physical = processors
    if info.get("siblings") and info.get("cpu_cores") and info["siblings"] > info["cpu_cores"]:
        physical = max(1, processors * info["cpu_cores"] // info["siblings"])  # SMT siblings share the FMA units
    cores_used = min(threads, physical)
    mhz = sum(info["mhz"]) / len(info["mhz"]) if info["mhz"] else 0.0
    fp32 = per_cycle * cores_used * mhz * 1e6 / 1e9  # GFLOP/s
    bf16_isa = sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "avx_ne_convert"))
    return {"model_name": info["model_name"], "vendor": vendor, "family": family, "processors": processors,
            "physical_cores": physical, "cores_used": cores_used, "mhz": mhz, "fp32_flop_per_cycle_core": per_cycle,
            "basis": why, "fp32_peak_gflops": fp32, "bf16_peak_gflops": 2 * fp32, "bf16_isa": bf16_isa,
            "note": "estimate from the nominal clock /proc/cpuinfo reports (no boost, no AVX-512 down-clock); "
                    "bf16 peak taken as 2x fp32 (dot-product instructions; AMX would be far higher)"}


def measure_peak(peak: dict, swift: str | None, env: dict) -> None:
    """The peak the '% of peak' column divides by: measured with `audiocnn bench peak` (FMA and
    vdpbf16ps loops on every thread, at the clock the cores really run) when our binary is there,
    else the nominal-clock estimate. Adds *_used_gflops and *_used_basis to `peak`."""
    measured = None
    if swift:
        try:
            out = subprocess.run([swift, "bench", "peak", "--json"], env=env, capture_output=True, text=True,
                                 timeout=120, check=True).stdout
            measured = json.loads(out.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
            print(f"`audiocnn bench peak` failed ({e}); using the nominal-clock estimate", flush=True)
    peak["measured"] = measured
    if measured and measured.get("fp32_gflops"):
        peak["fp32_used_gflops"] = measured["fp32_gflops"]
        peak["fp32_used_basis"] = f"measured, {measured.get('fp32_isa')} FMA on {measured.get('threads')} thread(s)"
    else:
        peak["fp32_used_gflops"], peak["fp32_used_basis"] = peak["fp32_peak_gflops"], "nominal-clock estimate"
    if measured and measured.get("bf16_gflops"):
        peak["bf16_used_gflops"] = measured["bf16_gflops"]
        peak["bf16_used_basis"] = f"measured, vdpbf16ps on {measured.get('threads')} thread(s)"
    else:
        peak["bf16_used_gflops"] = 2 * peak["fp32_used_gflops"]
        peak["bf16_used_basis"] = "2x the fp32 peak, an estimate (no AVX512_BF16 measured)"


def fmt(value, spec: str = ".1f", none: str = "—") -> str:
    return none if value is None else format(value, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (default 2)")
    ap.add_argument("--batches", default="1,16", help="inference batch sizes (default 1,16; \"\" for none: training only)")
    ap.add_argument("--train-batch", type=int, default=16, help="training batch (default 16)")
    ap.add_argument("--iters", type=int, default=20, help="timed calls/steps per figure (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3; `audiocnn bench` always does 1)")
    ap.add_argument("--model", choices=["full", "small"], default="full")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every engine this many times, interleaved, and report each one's median round")
    ap.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help="subset of " + ",".join(ENGINES))
    ap.add_argument("--ov-hint", choices=["auto", "latency", "throughput"], default="auto",
                    help="OpenVINO PERFORMANCE_HINT: auto = LATENCY at batch 1, THROUGHPUT above")
    ap.add_argument("--swift", default=os.path.join(REPO, ".build", "release", "audiocnn"), help="our binary")
    ap.add_argument("--json", metavar="OUT", help="write all figures as JSON")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](json.loads(args.child[1]))), flush=True)
        return

    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    # An empty --batches ("") times training only.
    if unknown or (not batches and args.skip_train) or min(batches, default=1) < 1 or args.iters < 1 \
            or args.warmup < 0 or args.threads < 1:
        ap.error(f"bad --engines {sorted(unknown)} or --batches/--iters/--warmup/--threads")
    t = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, OPENBLAS_NUM_THREADS=t, TENSORKIT_NUM_THREADS=t)

    swift = os.path.abspath(args.swift)
    if any(e.startswith("ours") for e in engines) and not os.access(swift, os.X_OK):
        print(f"our binary {swift} is missing: build it with\n    swift build -c release --product audiocnn\n"
              "(skipping our column)\n", flush=True)
        engines = [e for e in engines if not e.startswith("ours")]

    peak = cpu_peak(args.threads)
    versions = {"python": platform.python_version()}
    for mod in ("torch", "onnxruntime", "openvino", "onnx", "numpy"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = None
    print(f"machine: {peak['model_name']} (vendor {peak['vendor']}, family {peak['family']}), "
          f"{peak['processors']} logical CPUs, {peak['mhz']:.0f} MHz; threads {args.threads}")
    print(f"peak estimate for {peak['cores_used']} core(s): fp32 {peak['fp32_peak_gflops']:.0f} GFLOP/s "
          f"({peak['basis']}), bf16 {peak['bf16_peak_gflops']:.0f} GFLOP/s — {peak['note']}")
    measure_peak(peak, swift if any(e.startswith("ours") for e in engines) else None, env)
    print(f"peak used for '% of peak': fp32 {peak['fp32_used_gflops']:.0f} GFLOP/s ({peak['fp32_used_basis']}), "
          f"bf16 {peak['bf16_used_gflops']:.0f} GFLOP/s ({peak['bf16_used_basis']})")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="deploy_anchors_") as workdir:
        base = {"workdir": workdir, "threads": args.threads, "model": args.model, "iters": args.iters,
                "warmup": args.warmup, "ov_hint": args.ov_hint}
        prep, _, err = python_child("prepare", dict(base, batches=batches), env, "prepare")
        if prep is None:
            raise SystemExit(f"preparing the model / ONNX export failed:\n{err}")
        flop_clip = prep["forward_flop_per_clip"]
        print(f"model {args.model}: {prep['params'] / 1e6:.2f} M params, {flop_clip / 1e9:.3f} GFLOP per clip forward "
              f"(direct convolution" + (f"; issue's figure {FULL_FORWARD_GFLOP}" if args.model == "full" else "")
              + f"); ONNX {prep['onnx_mb']:.1f} MB via {prep['exporter']}\n", flush=True)

        def record(case: str, batch: int, engine: str, res, rss, err, flop_per_clip):
            row = {"case": case, "batch": batch, "engine": engine, "peak_rss_mb": rss, "error": err or None}
            if res is not None:
                row.update({k: v for k, v in res.items() if k != "peak_rss_mb"})
                if res.get("clips_per_s"):
                    row["gflops"] = res["clips_per_s"] * flop_per_clip / 1e9
                    lowp = "bf16" in str(res.get("precision", "")).lower()
                    row["peak_gflops"] = peak["bf16_used_gflops"] if lowp else peak["fp32_used_gflops"]
                    row["fraction_of_peak"] = row["gflops"] / row["peak_gflops"] if row["peak_gflops"] else None
            results.append(row)
            if err:
                print(f"  {case} b{batch} {engine}: FAILED {err}", flush=True)
            else:
                shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                         if k in ("latency_ms", "step_ms", "clips_per_s", "peak_rss_mb", "precision", "max_abs_diff",
                                  "conv_runtime_precision", "hint", "streams", "infer_requests", "fraction_of_peak")}
                print(f"  {case} b{batch} {engine}: {json.dumps(shown)}", flush=True)

        # Rounds: every engine once per round, so a slow spell of the shared machine hits all of
        # them alike; each engine's figure is then its median round (by clips/s).
        for round_ in range(args.rounds):
            if args.rounds > 1:
                print(f"round {round_ + 1} of {args.rounds}", flush=True)
            for batch in batches:
                for engine in engines:
                    if engine in FORWARD_TILES:
                        continue  # a training setting: inference's frozen filters take F(4x4) anyway
                    spec = dict(base, batch=batch, engine=engine)
                    if engine.startswith("ours"):
                        res, rss, err = swift_child(swift, "infer", batch, args, env, workdir,
                                                    "bf16" if engine == "ours-bf16" else "fp32")
                    elif engine == "ort":
                        res, rss, err = python_child("ort-infer", spec, env, f"{engine}-b{batch}")
                    elif engine.startswith("ov-"):
                        res, rss, err = python_child("ov-infer", spec, env, f"{engine}-b{batch}")
                    else:
                        res, rss, err = python_child("torch-infer", spec, env, f"{engine}-b{batch}")
                    record("infer", batch, engine, res, rss, err, flop_clip)
            if not args.skip_train:
                batch = args.train_batch
                for engine in [e for e in engines if e in TRAIN_ENGINES]:
                    spec = dict(base, batch=batch, engine=engine)
                    if engine.startswith("ours"):
                        res, rss, err = swift_child(swift, "train", batch, args, env, workdir,
                                                    "bf16" if engine.startswith("ours-bf16") else "fp32",
                                                    forward_tiles=FORWARD_TILES.get(engine))
                    else:
                        res, rss, err = python_child("torch-train", spec, env, f"{engine}-train-b{batch}")
                    record("train", batch, engine, res, rss, err, 3 * flop_clip)

    if args.rounds > 1:
        # Paired ratios: ours against each other engine within one round (run minutes apart),
        # so a slow spell that spans rounds unevenly cancels; reported beside the ratio of the
        # median rounds.
        def rounds_of(case, batch, engine):
            return [r for r in results if (r["case"], r["batch"], r["engine"]) == (case, batch, engine)]

        merged = []
        for key in dict.fromkeys((r["case"], r["batch"], r["engine"]) for r in results):
            rows = rounds_of(*key)
            good = sorted((r for r in rows if not r["error"]), key=lambda r: r.get("clips_per_s") or 0)
            pick = dict(good[len(good) // 2] if good else rows[-1])
            pick["rounds_clips_per_s"] = [r.get("clips_per_s") for r in rows]
            if not key[2].startswith("ours"):
                mine = rounds_of(key[0], key[1], "ours-bf16" if key[2] in BF16_ENGINES else "ours")
                paired = [m["clips_per_s"] / r["clips_per_s"] for m, r in zip(mine, rows)
                          if not m["error"] and not r["error"] and m.get("clips_per_s") and r.get("clips_per_s")]
                if paired:
                    pick["paired_ratios"] = paired
                    pick["paired_ratio_median"] = sorted(paired)[len(paired) // 2]
                # Ours with the forward tiles set otherwise than by default (F(2x2) at both precisions).
                other_engine = "ours-bf16-fwd2x2" if key[2] in BF16_ENGINES else "ours-fwd2x2"
                if key[0] == "train" and other_engine in engines:
                    other = rounds_of(key[0], key[1], other_engine)
                    paired = [m["clips_per_s"] / r["clips_per_s"] for m, r in zip(other, rows)
                              if not m["error"] and not r["error"] and m.get("clips_per_s") and r.get("clips_per_s")]
                    if paired:
                        pick["paired_ratios_other_tiles"] = paired
                        pick["paired_ratio_other_tiles_median"] = sorted(paired)[len(paired) // 2]
                        pick["other_tiles"] = "F(2x2)"
            merged.append(pick)
        results = merged

    # ---- ratios and the table ----
    for row in results:
        mine = "ours-bf16" if row["engine"] in BF16_ENGINES else "ours"
        ours = next((r for r in results if r["engine"] == mine and r["case"] == row["case"]
                     and r["batch"] == row["batch"] and not r["error"]), None)
        row["ours_vs_this"] = None
        if ours is None or row["error"]:
            continue
        if row["case"] == "infer" and row["batch"] == 1 and row.get("latency_ms") and ours.get("latency_ms"):
            row["ours_vs_this"] = row["latency_ms"] / ours["latency_ms"]  # other/ours latency
        elif row.get("clips_per_s"):
            row["ours_vs_this"] = ours["clips_per_s"] / row["clips_per_s"]  # ours/other throughput

    print(f"\n## Deployment anchors — model {args.model}, {args.threads} thread(s), iters {args.iters}, warmup {args.warmup}\n")
    print("| case | engine | precision | latency ms (median) | clips/s | GFLOP/s | % of peak | peak RSS MB "
          "| ours (same precision) vs this (>1 = ours faster) | max abs logit diff vs PyTorch fp32 (of max abs logit) | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in results:
        case = f"{row['case']} b{row['batch']}"
        name = LABELS[row["engine"]]
        if row["error"]:
            print(f"| {case} | {name} | — | — | — | — | — | {fmt(row['peak_rss_mb'], '.0f')} | — | — | failed: "
                  f"{row['error'].splitlines()[-1][:120].replace('|', '/')} |")
            continue
        prec = str(row.get("precision", ""))
        notes = []
        if row["engine"].startswith("ov-"):
            prec = f"{prec} (asked {row['precision_requested']})"
            conv = row.get("conv_runtime_precision") or {}
            notes.append(f"{row['hint']}, {row['streams']} stream(s)"
                         + (f", {row['infer_requests']} async requests" if row.get("infer_requests") else "")
                         + (", convs " + "/".join(f"{n} {p}" for p, n in sorted(conv.items())) if conv else ""))
        if row["engine"].startswith("ours"):
            notes.append(", ".join(f"{k} {row[k]}" for k in ("kernels", "gemm", "winograd", "winograd_forward") if k in row))
        if row.get("rounds_clips_per_s"):
            notes.append("rounds " + "/".join(fmt(v, ".1f") for v in row["rounds_clips_per_s"]) + " clips/s")
        if row.get("paired_ratios"):
            notes.append("ours/this by round (clips/s) " + "/".join(fmt(v, ".2f") for v in row["paired_ratios"])
                         + ", median " + fmt(row["paired_ratio_median"], ".2f"))
        if row.get("paired_ratios_other_tiles"):
            notes.append(f"ours with forward {row['other_tiles']}/this by round "
                         + "/".join(fmt(v, ".2f") for v in row["paired_ratios_other_tiles"])
                         + ", median " + fmt(row["paired_ratio_other_tiles_median"], ".2f"))
        latency = row.get("latency_ms") if row["case"] == "infer" else row.get("step_ms")
        if row["case"] == "train":
            notes.append("step ms (mean) in latency column; FLOPs = 3 x forward")
        frac = row.get("fraction_of_peak")
        ratio = "1.00 (ours)" if row["engine"].startswith("ours") else fmt(row.get("ours_vs_this"), ".2f")
        print(f"| {case} | {name} | {prec} | {fmt(latency)} | {fmt(row.get('clips_per_s'), '.2f')} "
              f"| {fmt(row.get('gflops'), '.1f')} | {fmt(None if frac is None else 100 * frac, '.1f')} "
              f"| {fmt(row['peak_rss_mb'], '.0f')} | {ratio} | {fmt(row.get('max_abs_diff'), '.2e')}"
              f"{(' (of ' + format(row['ref_max_abs_logit'], '.3g') + ')') if row.get('ref_max_abs_logit') else ''} "
              f"| {'; '.join(n for n in notes if n)} |")
    print("\nRatios: batch 1 = other latency / our latency; batch > 1 and training = our clips/s / other clips/s; "
          "bf16 engines (OpenVINO bf16, PyTorch autocast) against ours at bf16, the others against ours at fp32. "
          "Peak RSS is each engine's own process (os.wait4), including its runtime's import. "
          f"% of peak uses the fp32 peak ({peak['fp32_used_gflops']:.0f} GFLOP/s, {peak['fp32_used_basis']}) or the bf16 one "
          f"({peak['bf16_used_gflops']:.0f} GFLOP/s, {peak['bf16_used_basis']}) by the precision actually run; FLOPs are "
          "counted as direct convolution, so an engine using Winograd (ours, OpenVINO) does fewer real FLOPs than credited "
          "and can pass 100%.")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": {k: getattr(args, k) for k in ("threads", "batches", "train_batch", "iters", "warmup", "rounds",
                                                                     "model", "skip_train", "ov_hint", "swift")},
                       "engines": engines, "machine": peak, "versions": versions, "model": prep,
                       "forward_gflop_per_clip": flop_clip / 1e9, "results": results}, f, indent=2, default=str)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

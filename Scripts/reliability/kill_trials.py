#!/usr/bin/env python3
"""Crash trials for `audiocnn train`: SIGKILL at random moments, then check what is left.

1. Writes the demo's synthetic data set once (`audiocnn demo --quick --epochs 1`, 6 classes,
   60 clips of 5 s) and trains an uninterrupted reference run (small model, fixed seed).
2. Each trial starts the same run in a fresh folder and kills it with SIGKILL, either at a random
   time or right as a checkpoint write is under way: when the k-th temporary file of
   `last.train-state.safetensors`, `best.safetensors` or `last.safetensors` appears (plus a random
   0-15 ms, so the kill lands before, during or after the write and its fsync), or right after
   the k-th commit (rename) of the state file, before `best`/`last` follow it. Files are watched
   with inotify, so the kill follows the event within a fraction of a millisecond.
3. After the kill: every `best`/`last` checkpoint present must load (`audiocnn evaluate` on the
   validation fold), the TensorBoard logs must load with TensorBoard's own EventAccumulator, and
   `audiocnn train --resume` (or a plain restart when no epoch had been committed) must finish.
4. After the resume: `last.safetensors`, `best.safetensors` and the training state must equal the
   reference run's bit for bit (the Training library claims bit-identical resume), the logs must
   hold every epoch's scalars, and no temporary file may be left.

Prints a Markdown table of the trials (also written to <work>/kill-trials.md, with JSON beside).
Exit status 1 when any trial fails a check.

Usage: python3 Scripts/reliability/kill_trials.py --bin .build/release/audiocnn --work /tmp/kill-trials
       [--trials 20] [--epochs 5] [--seed 0]
"""
import argparse
import ctypes
import json
import os
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

IN_CREATE, IN_MOVED_TO = 0x100, 0x80
STATE, BEST, LAST = "last.train-state.safetensors", "best.safetensors", "last.safetensors"
SCALARS = ["Loss/Train", "Loss/Validation", "Accuracy/Validation", "Learning_rate"]


class Watch:
    """inotify on one folder, through libc (no third-party package needed)."""

    def __init__(self, folder):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, folder.encode(), IN_CREATE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify on " + folder)

    def events(self, timeout):
        """(mask, name) pairs that arrive within `timeout` seconds."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return []
        data, out, offset = os.read(self.fd, 65536), [], 0
        while offset < len(data):
            _, mask, _, length = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
            out.append((mask, name))
            offset += 16 + length
        return out

    def close(self):
        os.close(self.fd)


def train_cmd(args, data, out, logdir, resume=False):
    cmd = [args.bin, "train", "--data", data, "--model", "small", "--epochs", str(args.epochs),
           "--batch", "16", "--seed", str(args.seed), "--val-fold", "5", "--out", out, "--logdir", logdir,
           "--cache", os.path.join(args.work, "feature-cache")]
    return cmd + (["--resume"] if resume else [])


def epoch_of(path):
    """The `epoch` (checkpoint) or `epochs_completed` (state) metadata, or None when absent."""
    if not os.path.exists(path):
        return None
    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
    return int(meta.get("epoch", meta.get("epochs_completed", -1)))


def tensorboard_steps(logdir):
    """Every scalar tag's steps as TensorBoard's own reader loads them (raises when it cannot)."""
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    return {tag: [e.step for e in acc.Scalars(tag)] for tag in SCALARS if tag in tags}


def same_tensors(a, b):
    ta, tb = load_file(a), load_file(b)
    if ta.keys() != tb.keys():
        return False
    return all(ta[k].dtype == tb[k].dtype and np.array_equal(ta[k], tb[k]) for k in ta)


def loads(args, checkpoint, data, scratch):
    """`audiocnn evaluate` on the validation fold: the loader's own check of a checkpoint."""
    r = subprocess.run([args.bin, "evaluate", "--checkpoint", checkpoint, "--data", data, "--fold", "5",
                        "--png", os.path.join(scratch, "confusion.png")], capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1:] or [""]


def kill_at(args, cmd, out, plan, rng, reference_seconds):
    """Starts `cmd`, kills it as `plan` says; returns (what happened, seconds after start)."""
    os.makedirs(out, exist_ok=True)
    watch = Watch(out)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kind, k = plan["kind"], plan["occurrence"]
    deadline = started + plan.get("at", reference_seconds * 3)
    seen, moment = 0, None
    try:
        while moment is None:
            now = time.monotonic()
            if proc.poll() is not None:
                moment = "exited before the kill"
                break
            if now >= deadline:
                if kind == "time":
                    proc.send_signal(signal.SIGKILL)
                    moment = "at %.2f s" % (now - started)
                else:
                    moment = "event never came"
                    proc.send_signal(signal.SIGKILL)
                break
            for mask, name in watch.events(min(0.05, deadline - now)):
                hit = (kind == "tmp" and mask & IN_CREATE and name.startswith("." + plan["file"] + ".")
                       and name.endswith(".tmp")) or (kind == "commit" and mask & IN_MOVED_TO and name == plan["file"])
                if hit:
                    seen += 1
                    if seen == k:
                        delay = plan.get("delay", 0.0)
                        if delay > 0:
                            time.sleep(delay)
                        proc.send_signal(signal.SIGKILL)
                        moment = "%s #%d +%.0f ms" % (plan["label"], k, delay * 1000)
                        break
    finally:
        proc.wait()
        watch.close()
    return moment, time.monotonic() - started


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rng", type=int, default=2026, help="seed of the kill moments")
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    os.makedirs(args.work, exist_ok=True)
    rng = random.Random(args.rng)

    data = os.path.join(args.work, "demo", "synthetic-data")
    if not os.path.exists(os.path.join(data, "meta", "esc50.csv")):
        print("writing the synthetic data set (audiocnn demo --quick --epochs 1) ...", flush=True)
        subprocess.run([args.bin, "demo", "--quick", "--epochs", "1", "--out", os.path.join(args.work, "demo")],
                       check=True, stdout=subprocess.DEVNULL)

    ref = os.path.join(args.work, "reference")
    shutil.rmtree(ref, ignore_errors=True)
    t0 = time.monotonic()
    subprocess.run(train_cmd(args, data, os.path.join(ref, "ckpt"), os.path.join(ref, "runs")), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reference_seconds = time.monotonic() - t0
    print("reference run: %d epochs in %.1f s" % (args.epochs, reference_seconds), flush=True)

    files = {"state": STATE, "best": BEST, "last": LAST}
    plans = []
    for i in range(args.trials):
        # Cycle through the kinds of moment so each gets several trials.
        kind = ["time", "state-tmp", "last-tmp", "commit", "best-tmp"][i % 5]
        k = rng.randint(1, args.epochs - 1)
        if kind == "time":
            plans.append({"kind": "time", "occurrence": 0, "at": rng.uniform(0.5, reference_seconds * 0.95),
                          "label": "random time"})
        elif kind == "commit":
            plans.append({"kind": "commit", "occurrence": k, "file": STATE, "label": "state committed"})
        else:
            name = kind.split("-")[0]
            plans.append({"kind": "tmp", "occurrence": 1 if name == "best" else k, "file": files[name],
                          "delay": rng.choice([0.0, rng.uniform(0.0, 0.015)]), "label": "%s write" % name})

    rows, failures = [], 0
    for i, plan in enumerate(plans, 1):
        trial = os.path.join(args.work, "trial-%02d" % i)
        shutil.rmtree(trial, ignore_errors=True)
        out, logdir, scratch = (os.path.join(trial, d) for d in ("ckpt", "runs", "scratch"))
        os.makedirs(scratch)
        moment, seconds = kill_at(args, train_cmd(args, data, out, logdir), out, plan, rng, reference_seconds)
        row = {"trial": i, "moment": moment, "killed_after_s": round(seconds, 2), "problems": []}
        tmp_left = sorted(f for f in os.listdir(out) if f.endswith(".tmp"))
        row["tmp_left"] = len(tmp_left)
        row["epochs"] = {"state": epoch_of(os.path.join(out, STATE)), "best": epoch_of(os.path.join(out, BEST)),
                         "last": epoch_of(os.path.join(out, LAST))}
        loaded = []
        for name in (BEST, LAST):
            path = os.path.join(out, name)
            if os.path.exists(path):
                ok, tail = loads(args, path, data, scratch)
                loaded.append(ok)
                if not ok:
                    row["problems"].append("%s does not load: %s" % (name, tail[0]))
        row["checkpoints_load"] = ("yes (%d)" % len(loaded)) if loaded and all(loaded) else ("none yet" if not loaded else "NO")
        try:
            steps = tensorboard_steps(logdir) if os.path.isdir(logdir) else {}
            row["tb_after_kill"] = "readable, %d epoch(s)" % len(set(steps.get("Loss/Train", [])))
        except Exception as e:  # noqa: BLE001 - any reader failure is the finding
            row["tb_after_kill"] = "UNREADABLE"
            row["problems"].append("TensorBoard after kill: %r" % e)

        resume = row["epochs"]["state"] is not None
        r = subprocess.run(train_cmd(args, data, out, logdir, resume=resume), capture_output=True, text=True)
        row["restart"] = "--resume" if resume else "restart (nothing committed)"
        if r.returncode != 0:
            row["problems"].append("%s failed: %s" % (row["restart"], (r.stderr.strip().splitlines() or [""])[-1]))
        identical = all(same_tensors(os.path.join(out, n), os.path.join(ref, "ckpt", n)) for n in (BEST, LAST, STATE)
                        if os.path.exists(os.path.join(out, n))) and all(os.path.exists(os.path.join(out, n)) for n in (BEST, LAST, STATE))
        row["bit_identical"] = "yes" if identical else "NO"
        if not identical:
            row["problems"].append("final weights/state differ from the uninterrupted run")
        try:
            steps = tensorboard_steps(logdir)
            train_steps = steps.get("Loss/Train", [])
            complete = all(set(steps.get(t, [])) == set(range(args.epochs)) for t in SCALARS)
            row["tb_after_resume"] = "%s, %d points for %d epochs" % ("complete" if complete else "GAPS",
                                                                     len(train_steps), args.epochs)
            if not complete:
                row["problems"].append("TensorBoard after resume lacks epochs: %s" % steps)
        except Exception as e:  # noqa: BLE001
            row["tb_after_resume"] = "UNREADABLE"
            row["problems"].append("TensorBoard after resume: %r" % e)
        left = sorted(f for f in os.listdir(out) if f.endswith(".tmp"))
        if left:
            row["problems"].append("temporary files left after resume: %s" % left)
        failures += bool(row["problems"])
        rows.append(row)
        print("trial %2d: %-28s state/best/last epoch %s/%s/%s, tmp %d, load %s, TB %s; %s; identical %s%s" % (
            i, moment, row["epochs"]["state"], row["epochs"]["best"], row["epochs"]["last"], row["tmp_left"],
            row["checkpoints_load"], row["tb_after_kill"], row["restart"], row["bit_identical"],
            "; PROBLEMS: " + "; ".join(row["problems"]) if row["problems"] else ""), flush=True)
        shutil.rmtree(trial, ignore_errors=True)

    header = ("| # | kill moment | after (s) | epoch of state / best / last at kill | .tmp left | checkpoints load "
              "| TensorBoard after kill | restart | TensorBoard after resume | bit-identical to uninterrupted | problems |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = ["| %d | %s | %.1f | %s / %s / %s | %d | %s | %s | %s | %s | %s | %s |" % (
        r["trial"], r["moment"], r["killed_after_s"], *(("-" if r["epochs"][k] is None else r["epochs"][k])
                                                        for k in ("state", "best", "last")),
        r["tmp_left"], r["checkpoints_load"], r["tb_after_kill"], r["restart"], r["tb_after_resume"],
        r["bit_identical"], "; ".join(r["problems"]) or "none") for r in rows]
    table = header + "\n".join(lines) + "\n"
    summary = "%d trials, %d with problems; reference run %d epochs in %.1f s\n" % (
        len(rows), failures, args.epochs, reference_seconds)
    print("\n" + table + "\n" + summary)
    with open(os.path.join(args.work, "kill-trials.md"), "w") as f:
        f.write(table + "\n" + summary)
    with open(os.path.join(args.work, "kill-trials.json"), "w") as f:
        json.dump(rows, f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

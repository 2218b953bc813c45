#!/usr/bin/env python3
"""Crash trials for `audiocnn train`: SIGKILL at random moments, then check what is left.

1. Writes the demo's synthetic data set once (`audiocnn demo --quick --epochs 1`, 6 classes,
   60 clips of 5 s) and trains an uninterrupted reference run (small model, fixed seed).
2. Each trial starts the same run in a fresh folder and kills it with SIGKILL, either at a random
   time, or at an exact system call chosen at random: strace's fault injection
   (`-e inject=SYSCALL:signal=KILL:when=K`) delivers SIGKILL as the trainer thread enters its K-th
   `write` (in the middle of writing a checkpoint, the state file or a log), `fsync` (a temporary
   file complete but not yet durable, or renamed but the folder not yet synced) or `rename` (one
   file of an epoch replaced, the next not yet). K is drawn from the counts of an strace-logged
   reference run, so every trial kills during the run.
3. After the kill: every `best`/`last` checkpoint present must load (`audiocnn evaluate` on the
   validation fold), the TensorBoard logs must load with TensorBoard's own EventAccumulator, and
   `audiocnn train --resume` (or a plain restart when no epoch had been committed) must finish.
4. After the resume: `last.safetensors`, `best.safetensors` and the training state must equal the
   reference run's bit for bit (the Training library claims bit-identical resume), the logs must
   hold every epoch's scalars, and no temporary file may be left.

Prints a Markdown table of the trials (also written to <work>/kill-trials.md, with JSON beside).
Exit status 1 when any trial fails a check.

Usage: python3 Scripts/reliability/kill_trials.py --bin .build/release/audiocnn --work /tmp/kill-trials
       [--trials 20] [--epochs 8] [--seed 0]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

STATE, BEST, LAST = "last.train-state.safetensors", "best.safetensors", "last.safetensors"
SCALARS = ["Loss/Train", "Loss/Validation", "Accuracy/Validation", "Learning_rate"]
SYSCALLS = ["write", "fsync", "rename"]


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


def calibrate(cmd, scratch):
    """Counts of each traced system call made by the thread that writes the checkpoints (the one
    that renames), in one strace-logged run of `cmd`."""
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    trace = os.path.join(scratch, "trace")
    subprocess.run(["strace", "-f", "-qq", "-o", trace, "-e", "trace=" + ",".join(SYSCALLS)] + cmd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    counts = {}
    for line in open(trace):
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].isdigit():
            name = parts[1].split("(")[0]
            counts.setdefault(parts[0], {}).setdefault(name, 0)
            counts[parts[0]][name] += 1
    writer = max(counts.values(), key=lambda c: c.get("rename", 0))
    return {name: writer.get(name, 0) for name in SYSCALLS}


def kill_at(cmd, plan):
    """Runs `cmd` until SIGKILL as `plan` says; returns (description, seconds after start)."""
    started = time.monotonic()
    if plan["kind"] == "time":
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=plan["at"])
            moment = "exited before the kill"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            moment = "at %.2f s" % plan["at"]
    else:
        syscall, k = plan["kind"], plan["occurrence"]
        r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + syscall,
                            "-e", "inject=%s:signal=KILL:when=%d" % (syscall, k)] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moment = "%s #%d of %d" % (syscall, k, plan["of"]) + ("" if r.returncode != 0 else " (NOT KILLED)")
    return moment, time.monotonic() - started


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--epochs", type=int, default=8)
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

    counts = calibrate(train_cmd(args, data, os.path.join(args.work, "calibration", "ckpt"),
                                 os.path.join(args.work, "calibration", "runs")), os.path.join(args.work, "calibration"))
    shutil.rmtree(os.path.join(args.work, "calibration"), ignore_errors=True)
    print("the checkpoint-writing thread makes %s" % ", ".join("%d %s" % (n, s) for s, n in counts.items()), flush=True)
    plans = []
    for i in range(args.trials):
        # Cycle through the kinds of moment so each gets several trials.
        kind = ["time", "write", "fsync", "rename", "write"][i % 5]
        if kind == "time":
            plans.append({"kind": "time", "at": rng.uniform(0.1, 0.7) * reference_seconds})
        else:
            plans.append({"kind": kind, "occurrence": rng.randint(1, counts[kind]), "of": counts[kind]})

    rows, failures = [], 0
    for i, plan in enumerate(plans, 1):
        trial = os.path.join(args.work, "trial-%02d" % i)
        shutil.rmtree(trial, ignore_errors=True)
        out, logdir, scratch = (os.path.join(trial, d) for d in ("ckpt", "runs", "scratch"))
        os.makedirs(scratch)
        os.makedirs(out)
        moment, seconds = kill_at(train_cmd(args, data, out, logdir), plan)
        row = {"trial": i, "moment": moment, "killed_after_s": round(seconds, 2), "problems": []}
        if "NOT KILLED" in moment or "before the kill" in moment:
            row["problems"].append("the run was not killed")
        tmp_left = sorted(f for f in os.listdir(out) if f.endswith(".tmp")) if os.path.isdir(out) else []
        # `.last.safetensors.<pid>.<random>.tmp` -> `last.safetensors`: the write the kill interrupted.
        row["tmp_left"] = ", ".join(t[1:].rsplit(".", 3)[0] for t in tmp_left) or "-"
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
            # Each epoch exactly once: none missing, and none twice (an epoch logged by the killed
            # session and again by the resumed one must be purged by the resume's purge step).
            exact = all(sorted(steps.get(t, [])) == list(range(args.epochs)) for t in SCALARS)
            row["tb_after_resume"] = "%s, %d points for %d epochs" % ("each epoch once" if exact else "WRONG",
                                                                     len(train_steps), args.epochs)
            if not exact:
                row["problems"].append("TensorBoard after resume does not hold each epoch once: %s" % steps)
        except Exception as e:  # noqa: BLE001
            row["tb_after_resume"] = "UNREADABLE"
            row["problems"].append("TensorBoard after resume: %r" % e)
        left = sorted(f for f in os.listdir(out) if f.endswith(".tmp"))
        if left:
            row["problems"].append("temporary files left after resume: %s" % left)
        failures += bool(row["problems"])
        rows.append(row)
        print("trial %2d: %-24s state/best/last epoch %s/%s/%s, tmp %s, load %s, TB %s; %s; identical %s%s" % (
            i, moment, row["epochs"]["state"], row["epochs"]["best"], row["epochs"]["last"], row["tmp_left"],
            row["checkpoints_load"], row["tb_after_kill"], row["restart"], row["bit_identical"],
            "; PROBLEMS: " + "; ".join(row["problems"]) if row["problems"] else ""), flush=True)
        shutil.rmtree(trial, ignore_errors=True)

    header = ("| # | kill moment | after (s) | epoch of state / best / last at kill | interrupted write (.tmp left) | checkpoints load "
              "| TensorBoard after kill | restart | TensorBoard after resume | bit-identical to uninterrupted | problems |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = ["| %d | %s | %.1f | %s / %s / %s | %s | %s | %s | %s | %s | %s | %s |" % (
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

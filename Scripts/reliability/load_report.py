#!/usr/bin/env python3
"""Tables of a Scripts/load-test.sh run: per phase and per soak minute, wrk's request count,
requests/s, latency percentiles and errors, and the server's RSS (sampled every second from
/proc/PID/status) at the phase's start, maximum and end. Exit status 1 on any failed request.

Usage: python3 Scripts/reliability/load_report.py WORK_FOLDER
"""
import glob
import json
import os
import sys

work = sys.argv[1]
rss = []  # (time, MB, phase)
for line in open(os.path.join(work, "rss.log")):
    parts = line.split()
    if len(parts) == 3 and parts[1].isdigit():
        rss.append((float(parts[0]), int(parts[1]) / 1024, parts[2]))


def wrk_result(phase):
    for line in reversed(open(os.path.join(work, "wrk-%s.txt" % phase)).read().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit("no result line in wrk-%s.txt" % phase)


phases = sorted(os.path.basename(p)[4:-4] for p in glob.glob(os.path.join(work, "wrk-*.txt")))
phases = sorted((p for p in phases if p.startswith("c")), key=lambda p: int(p[1:])) + [p for p in phases if p == "soak"]
failed = 0
header = ("| phase | conns | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | timeouts "
          "| RSS start / max / end MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
rows = []
for phase in phases:
    r = wrk_result(phase)
    conns = open(os.path.join(work, "wrk-%s.txt" % phase)).read().split(" connections")[0].split()[-1]
    samples = [mb for _, mb, p in rss if p == phase]
    socket = r["connect_errors"] + r["read_errors"] + r["write_errors"]
    failed += r["non_2xx"] + socket + r["timeouts"]
    rss_text = "%.0f / %.0f / %.0f" % (samples[0], max(samples), samples[-1]) if samples else "-"
    rows.append("| %s | %s | %d | %.2f | %.0f | %.0f | %.0f | %.0f | %d | %d | %d | %s |" % (
        phase, conns, r["requests"], r["requests"] / (r["duration_us"] / 1e6), r["p50_ms"], r["p90_ms"],
        r["p99_ms"], r["max_ms"], r["non_2xx"], socket, r["timeouts"], rss_text))
print(header)
print("\n".join(rows))

soak = [(t, mb) for t, mb, p in rss if p == "soak"]
if len(soak) > 2:
    t0 = soak[0][0]
    xs = [(t - t0) / 60 for t, _ in soak]
    ys = [mb for _, mb in soak]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / max(sum((x - mx) ** 2 for x in xs), 1e-12)
    second_half = ys[len(ys) // 2:]
    print("\nsoak: %.1f min, %d RSS samples: start %.0f MB, max %.0f MB, end %.0f MB; least-squares trend "
          "%+.2f MB/min (second half: min %.0f, max %.0f MB)" % (xs[-1], len(ys), ys[0], max(ys), ys[-1], slope,
                                                                min(second_half), max(second_half)))
    # Per minute: responses from the wrk threads' counts (the last minute is the remainder of
    # wrk's totals), RSS from the samples.
    per_minute = {}
    counts_path = os.path.join(work, "counts-soak.txt")
    if os.path.exists(counts_path):
        for line in open(counts_path):
            _, minute, ok, other = (int(v) for v in line.split())
            a, b = per_minute.get(minute, (0, 0))
            per_minute[minute] = (a + ok, b + other)
    r = wrk_result("soak")
    minutes = max(int(xs[-1] + 0.999), 1)
    # The threads write a minute's counts when a later response arrives, so the run's last
    # responses are in no file: they are wrk's totals minus what was written.
    rest_ok = r["requests"] - r["non_2xx"] - sum(v[0] for v in per_minute.values())
    rest_other = r["non_2xx"] - sum(v[1] for v in per_minute.values())
    last = min(max(per_minute, default=-1) + 1, minutes - 1)
    a, b = per_minute.get(last, (0, 0))
    per_minute[last] = (a + rest_ok, b + rest_other)
    print("\n(minutes of the wrk threads, from their first response; the last one ends with the run)")
    print("\n| soak minute | 2xx responses | req/s | other responses | RSS min / max / end MB |\n|---|---|---|---|---|")
    for minute in range(minutes):
        ok, other = per_minute.get(minute, (0, 0))
        window = [y for x, y in zip(xs, ys) if minute <= x < minute + 1] or [float("nan")]
        print("| %d | %d | %.2f | %d | %.0f / %.0f / %.0f |" % (minute + 1, ok, ok / 60, other, min(window), max(window), window[-1]))
idle = [mb for _, mb, p in rss if p == "idle"]
if idle:
    print("idle after the load: %.0f MB" % idle[-1])
print("\nmachine: " + open(os.path.join(work, "machine.txt")).read().replace("\n", "; "))
print("\n%s failed requests in all phases" % failed)
sys.exit(1 if failed else 0)

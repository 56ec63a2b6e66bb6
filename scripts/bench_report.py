#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Turn google benchmark JSON from lfpat_bench into the comparison table.

Names follow the shim's convention "<family>/<case>/<impl>[/...]/threads:N":
impl "lfp_locked_*" is the mutex twin, "lfp_*" an lfpat primitive, anything
else a peer. For each lfpat row the table gives the median items/s over the
repetitions, the spread (min..max of the repetitions, relative to the
median), and ratios against the twin and the best peer measured in the same
run and group (same family, case and thread count)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict


def parse_name(run_name):
    parts = [p for p in run_name.split("/") if p not in ("real_time", "manual_time")]
    threads = 1
    rest = []
    for p in parts:
        if p.startswith("threads:"):
            threads = int(p.split(":")[1])
        elif p.startswith("repeats:"):
            continue
        else:
            rest.append(p)
    if len(rest) < 3:
        return None
    family, case, impl = rest[0], rest[1], rest[2]
    if len(rest) > 3:
        case = case + "/" + "/".join(rest[3:])
    return family, case, impl, threads


def role(impl):
    if impl.startswith("lfp_locked_"):
        return "twin"
    if impl.startswith("lfp_"):
        return "lfpat"
    return "peer"


def load(path):
    with open(path) as f:
        data = json.load(f)
    runs = defaultdict(list)
    errors = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        key = parse_name(b.get("run_name", b["name"]))
        if not key:
            continue
        if b.get("error_occurred"):
            errors[key] = b.get("error_message", "error")
            continue
        ips = b.get("items_per_second")
        if ips:
            runs[key].append(ips)
    return data.get("context", {}), runs, errors


def fmt_rate(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--md")
    ap.add_argument("--plots")
    ap.add_argument("--prefix", default="latest", help="plot file names: PREFIX-<family>.png")
    a = ap.parse_args()
    ctx, runs, errors = load(a.json)

    groups = defaultdict(dict)   # (family, case, threads) -> impl -> [ips]
    for (family, case, impl, threads), v in runs.items():
        groups[(family, case, threads)][impl] = v

    lines = []
    lines.append(f"Run: {ctx.get('date', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
                 f"{max((len(v) for v in runs.values()), default=0)} repetitions; "
                 "items/s are medians, spread is min..max of the repetitions relative to the median.")
    lines.append("")
    lines.append("| family | case | threads | lfpat | items/s | spread | × mutex twin | × best peer |")
    lines.append("|---|---|---:|---|---:|---:|---:|---|")
    for (family, case, threads) in sorted(groups):
        impls = groups[(family, case, threads)]
        med = {i: statistics.median(v) for i, v in impls.items()}
        twins = [i for i in med if role(i) == "twin"]
        peers = [i for i in med if role(i) == "peer"]
        best_peer = max(peers, key=lambda i: med[i]) if peers else None
        for impl in sorted(i for i in med if role(i) == "lfpat"):
            m = med[impl]
            lo, hi = min(impls[impl]) / m, max(impls[impl]) / m
            vs_twin = f"{m / med[twins[0]]:.2f}× ({twins[0]})" if twins else "—"
            vs_peer = f"{m / med[best_peer]:.2f}× ({best_peer})" if best_peer else "—"
            lines.append(f"| {family} | {case} | {threads} | {impl} | {fmt_rate(m)} | "
                         f"{lo:.2f}..{hi:.2f} | {vs_twin} | {vs_peer} |")
    lines.append("")
    lines.append("Every implementation measured (median items/s):")
    lines.append("")
    lines.append("| family | case | threads | impl | role | items/s | spread |")
    lines.append("|---|---|---:|---|---|---:|---:|")
    for (family, case, threads) in sorted(groups):
        impls = groups[(family, case, threads)]
        for impl in sorted(impls, key=lambda i: -statistics.median(impls[i])):
            v = impls[impl]
            m = statistics.median(v)
            lines.append(f"| {family} | {case} | {threads} | {impl} | {role(impl)} | {fmt_rate(m)} | "
                         f"{min(v) / m:.2f}..{max(v) / m:.2f} |")
    for key, msg in sorted(errors.items()):
        lines.append(f"\nerror: {'/'.join(map(str, key))}: {msg}")
    text = "\n".join(lines)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(text + "\n")
        print(f"\nwrote {a.md}")
    if a.plots:
        plot(groups, a.plots, a.prefix)


def plot(groups, outdir, prefix):
    """One PNG per family: median items/s against threads, a line per case+impl."""
    by_family = defaultdict(lambda: defaultdict(dict))
    for (family, case, threads), impls in groups.items():
        for impl, v in impls.items():
            by_family[family][f"{case} {impl}"][threads] = statistics.median(v)
    for family, series in sorted(by_family.items()):
        series = {k: s for k, s in series.items() if len(s) > 1}
        if not series:
            bars(family, {k: v for k, v in groups.items() if k[0] == family}, outdir, prefix)
            continue
        dat = os.path.join(outdir, f"{prefix}-{family}.dat")
        png = os.path.join(outdir, f"{prefix}-{family}.png")
        with open(dat, "w") as f:
            for name, pts in sorted(series.items()):
                f.write(f'"{name}"\n')
                for t in sorted(pts):
                    f.write(f"{t} {pts[t]}\n")
                f.write("\n\n")
        script = (f'set terminal pngcairo noenhanced size 1000,600 font ",10"\n'
                  f'set output "{png}"\n'
                  f'set title "lfpat {family}: throughput vs threads (median, one run)"\n'
                  'set xlabel "threads"\nset ylabel "items/s"\nset logscale y\n'
                  'set key outside right top\nset grid\nset xtics (1,2,4,8)\n'
                  f'plot for [i=0:{len(series) - 1}] "{dat}" index i using 1:2 '
                  'with linespoints title columnheader(1)\n')
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode != 0:
            print(f"gnuplot failed for {family}: {r.stderr.strip()}", file=sys.stderr)
        else:
            print(f"wrote {png}")


COLORS = ["#1f77b4", "#2ca02c", "#17becf", "#d62728", "#ff7f0e", "#9467bd", "#8c564b",
          "#e377c2", "#7f7f7f", "#bcbd22", "#000000", "#aec7e8"]


def bars(family, groups, outdir, prefix):
    """A family whose cases each run at one thread count (queues: 1p1c,
    2p2c, ...): a clustered bar chart, one cluster per case, one bar per
    implementation, median items/s on a log scale."""
    cases = sorted({(case, threads) for (_, case, threads) in groups})
    impls = sorted({i for v in groups.values() for i in v}, key=lambda i: (role(i), i))
    dat = os.path.join(outdir, f"{prefix}-{family}.dat")
    png = os.path.join(outdir, f"{prefix}-{family}.png")
    with open(dat, "w") as f:
        f.write("case " + " ".join(f'"{i}"' for i in impls) + "\n")
        for case, threads in cases:
            row = groups[(family, case, threads)]
            vals = [f"{statistics.median(row[i]):.6g}" if i in row else "?" for i in impls]
            f.write(f'"{case} ({threads}T)" ' + " ".join(vals) + "\n")
    script = (f'set terminal pngcairo noenhanced size 1200,600 font ",10"\n'
              f'set output "{png}"\n'
              f'set title "lfpat {family}: throughput per case (median, one run)"\n'
              'set ylabel "items/s"\nset logscale y\nset yrange [1000:*]\n'
              'set style data histogram\nset style histogram clustered gap 1\n'
              'set style fill solid 0.8 border -1\nset key outside right top\n'
              'set grid ytics\nset xtics rotate by -25\nset datafile missing "?"\n'
              + "plot " + ", ".join(f'"{dat}" using {k + 2}{":xtic(1)" if k == 0 else ""} '
                                    f'title columnheader({k + 2}) lc rgb "{COLORS[k % len(COLORS)]}"'
                                    for k in range(len(impls))) + "\n")
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print(f"gnuplot failed for {family}: {r.stderr.strip()}", file=sys.stderr)
    else:
        print(f"wrote {png}")


if __name__ == "__main__":
    main()

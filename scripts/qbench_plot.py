#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""qbench_plot.py — the pinned queue table of lfpat_qbench as a chart.

Reads the markdown lfpat_qbench --md writes (scripts/bench: latest-queues.md)
and draws, for one placement (default: pinned), a clustered bar chart: one
cluster per case (spsc/cap1024, ..., mpmc/4p4c), one bar per implementation,
median M items/s on a log scale, the case's regime (near/far repetitions and
the median one-way hand-off) under its name. Writes PNG via gnuplot.

  scripts/qbench_plot.py bench/results/latest-queues.md OUT.png [--placement pinned]
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import COLORS  # noqa: E402

HEAD = re.compile(r"^### (\S+) — (\w+), (\d+) reps: (\d+) near \(median one-way hand-off (\d+) ns\), "
                  r"(\d+) far \((\d+) ns\)")


def parse(path, placement):
    """[(case, label, {impl: M items/s})] in file order, for one placement."""
    cases, cur = [], None
    for line in open(path, encoding="utf-8"):
        m = HEAD.match(line)
        if m:
            case, where, _, nnear, near_ns, nfar, far_ns = m.groups()
            cur = None
            if where == placement:
                regime = f"{nnear} near {near_ns} ns / {nfar} far {far_ns} ns"
                cur = (case, regime, {})
                cases.append(cur)
            continue
        if cur and line.startswith("| ") and not line.startswith("| impl"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            impl = re.sub(r" \((twin|peer|reference)\)$", "", cells[0])
            cur[2][impl] = float(cells[1])
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("md")
    ap.add_argument("png")
    ap.add_argument("--placement", default="pinned")
    a = ap.parse_args()
    cases = parse(a.md, a.placement)
    if not cases:   # e.g. scripts/bench --filter that matches no queue case
        print(f"qbench_plot: no '{a.placement}' tables in {a.md}; no chart")
        return
    panels = []   # one panel per kind (spsc, mpmc): its own cases and rows
    for kind in dict.fromkeys(c[0].split("/")[0] for c in cases):
        mine = [c for c in cases if c[0].startswith(kind + "/")]
        impls = []
        for _, _, row in mine:
            impls += [i for i in row if i not in impls]
        dat = f"{os.path.splitext(a.png)[0]}-{kind}.dat"
        with open(dat, "w", encoding="utf-8") as f:
            f.write("case " + " ".join(f'"{i}"' for i in impls) + "\n")
            for case, regime, row in mine:
                vals = [f"{row[i]:.6g}" if row.get(i, 0) > 0 else "?" for i in impls]
                f.write(f'"{case}\\n{regime}" ' + " ".join(vals) + "\n")
        panels.append((kind, dat, impls))
    script = (f'set terminal pngcairo noenhanced size 1600,750 font ",10"\n'
              f'set output "{a.png}"\n'
              f'set multiplot layout 1,{len(panels)} title "lfpat queues, threads '
              f'{a.placement}: M items/s (median of interleaved repetitions; the '
              f'regime of each case under its name)"\n'
              'set ylabel "M items/s"\nset logscale y\nset yrange [0.01:*]\n'
              'set style data histogram\nset style histogram clustered gap 1\n'
              'set style fill solid 0.8 border -1\nset key below font ",9"\n'
              'set bmargin 9\nset grid ytics\nset datafile missing "?"\n')
    for kind, dat, impls in panels:
        script += (f'set title "{kind}"\nplot '
                   + ", ".join(f'"{dat}" using {k + 2}{":xtic(1)" if k == 0 else ""} '
                               f'title columnheader({k + 2}) lc rgb "{COLORS[k % len(COLORS)]}"'
                               for k in range(len(impls))) + "\n")
    script += "unset multiplot\n"
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"qbench_plot: gnuplot failed: {r.stderr.strip()}")
    print(f"wrote {a.png}")


if __name__ == "__main__":
    main()

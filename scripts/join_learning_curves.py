#!/usr/bin/env python3
"""join_learning_curves.py [--earlier CURVE.csv] RUN_DIR... : one learning curve for a model made in phases.

Each RUN_DIR is a `bertscope-cli pretrain` run folder (curve.csv, checkpoint/state.json); each phase started with
--init-from the previous run's final checkpoint. --earlier is the joined curve of phases made before those runs (the
shipped model's learning-curve.csv, whose run folders are gone); the new phases are numbered after its last one.

Output (stdout): a `phase` column, then curve.csv's columns, with each phase's steps and elapsed seconds counted from
the start of the first phase. A phase hands over at its checkpoint's step (checkpoint/state.json), which may lie
after its last logged row (a run stopped between two log lines).

curve.csv only ever gained columns at its end (heldout_loss and heldout_masked came later), and a run resumed by a
newer build writes longer rows under its old header: so columns are matched by position against the longest
header, and missing values are left empty.
"""
import argparse
import csv
import json
import os
import sys


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--earlier", help="the joined curve of earlier phases (a learning-curve.csv)")
    parser.add_argument("runs", nargs="+", help="pretrain run folders, in the order they ran")
    args = parser.parse_args()

    phases = []  # (run folder, its curve's rows)
    phase, step_offset, time_offset = 0, 0.0, 0.0
    columns = []
    earlier = None
    if args.earlier:
        header, rows = read_rows(args.earlier)
        if header[0] != "phase":
            sys.exit(f"{args.earlier}: not a joined learning curve (no 'phase' column)")
        earlier = (header[1:], rows)
        columns = header[1:]
        if rows:
            phase = max(int(r[0]) for r in rows)
            step_offset, time_offset = float(rows[-1][1]), float(rows[-1][5])
    for run in args.runs:
        header, rows = read_rows(os.path.join(run, "curve.csv"))
        if len(header) > len(columns):
            if header[: len(columns)] != columns:
                sys.exit(f"{run}/curve.csv: columns {header} do not extend {columns}")
            columns = header
        phases.append((run, rows))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["phase"] + columns)
    width = len(columns)
    if earlier:
        for r in earlier[1]:
            out.writerow(r + [""] * (width + 1 - len(r)))
    step_index, time_index = columns.index("step"), columns.index("elapsed_seconds")
    for run, rows in phases:
        phase += 1
        for r in rows:
            r = r + [""] * (width - len(r))
            r[step_index] = str(int(float(r[step_index]) + step_offset))
            r[time_index] = f"{float(r[time_index]) + time_offset:.1f}"
            out.writerow([str(phase)] + r)
        with open(os.path.join(run, "checkpoint", "state.json")) as f:
            state = json.load(f)
        step_offset += state["step"]
        time_offset += state["elapsed_seconds"]


if __name__ == "__main__":
    main()

"""Side by side figures of several benchmark runs (CSV files written by load.py), as a
Markdown table, plus the growth of p50 between two sizes when --small/--large are given.

    .venv/bin/python benchmarks/compare.py docs/benchmarks/2026-11-28-1k-apres.csv \\
        docs/benchmarks/2026-11-28-100k-apres.csv --growth
"""

import argparse
import csv
from pathlib import Path

SHELL = "page_vide"


def load(path):
    with open(path, newline="") as handle:
        return {row["page"]: row for row in csv.DictReader(handle)}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="CSV files, in the order of the columns")
    parser.add_argument("--growth", action="store_true", help="p50 of the last run / p50 of the first")
    args = parser.parse_args()

    runs = [(Path(path).stem.split("-", 3)[-1], load(path)) for path in args.runs]
    pages = list(runs[0][1])
    header = ["Page"]
    for label, _rows in runs:
        header += [f"{label} req/s", f"{label} p50", f"{label} p95", f"{label} SQL", f"{label} / vide"]
    if args.growth:
        # The machine's load may differ between two runs: the second ratio divides each
        # page's p50 by the empty page's p50 of the same run first.
        header += ["p50 grand / petit", "idem, rapporté à la page vide"]
    print("| " + " | ".join(header) + " |")
    print("|---" + "|---:" * (len(header) - 1) + "|")
    for page in pages:
        cells = [page]
        for _label, rows in runs:
            row = rows.get(page)
            if row is None:
                cells += ["–"] * 5
                continue
            cells += [
                f"{float(row['rps']):.1f}",
                f"{float(row['p50_ms']):.0f}",
                f"{float(row['p95_ms']):.0f}",
                row["queries"],
                f"{float(row['ratio_to_shell']):.0%}",
            ]
        if args.growth:
            first, last = runs[0][1].get(page), runs[-1][1].get(page)
            shell_first, shell_last = runs[0][1].get(SHELL), runs[-1][1].get(SHELL)
            if first and last and float(first["p50_ms"]):
                growth = float(last["p50_ms"]) / float(first["p50_ms"])
                shell_growth = float(shell_last["p50_ms"]) / float(shell_first["p50_ms"])
                cells += [f"{growth:.2f}×", f"{growth / shell_growth:.2f}×"]
            else:
                cells += ["–", "–"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

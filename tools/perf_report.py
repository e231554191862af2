#!/usr/bin/env python3
"""Turns qwire-perf --json reports into the README's performance table:
every figure with the ceiling it was measured against in the same run and
the ratio. Usage: tools/perf_report.py REPORT.json... > report.md"""
import json
import sys


def number(x):
    if x is None:
        return ""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.3g} M"
    if a >= 1e4:
        return f"{x / 1e3:.3g} k"
    return f"{x:.3g}"


def main(paths):
    reports = []
    for p in paths:
        with open(p) as f:
            reports.append(json.load(f))
    if not reports:
        sys.exit("tools/perf_report.py: no reports given")
    m = reports[0]["machine"]
    print(f"Machine: {m['cpu']}, {m['cores']} cores, {m['kernel']}, {m['build']} build; "
          f"io_uring {m['io_uring']}; {m['pinning']}.")
    print()
    print("| command | setting | metric | median | ceiling | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in reports:
        # The scenario and its knobs: without the program's path and the
        # options that only say where the output went.
        words, kept = r["command"].split()[1:], []
        while words:
            w = words.pop(0)
            if w in ("--json", "--plot", "--csv"):
                words.pop(0)
            elif w != "--quiet":
                kept.append(w)
        command = " ".join(kept)
        for x in r["results"]:
            setting = " ".join(f"{k}={v}" for k, v in x["setting"].items())
            ceiling = x.get("ceiling")
            ratio = x["median"] / ceiling if ceiling else None
            ceil = f"{x.get('ceiling_name', '')}: {number(ceiling)}" if ceiling else ""
            print(f"| `{command}` | {setting} | {x['metric']} | {number(x['median'])} | {ceil} | "
                  f"{'' if ratio is None else f'{ratio:.2f}'} |")


if __name__ == "__main__":
    main(sys.argv[1:])

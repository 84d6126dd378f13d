#!/usr/bin/env python3
"""Prints the sealed-frame ratio table of BENCHMARKS.md from the last
`cargo bench -p packet-benches --bench crypto` run.

For each function it reads criterion's raw samples
(target/criterion/sealed_*/<fn>/new/sample.json) and takes the fastest
per-iteration sample (robust on a loaded, shared machine: preemption only
ever adds time) and the median sample."""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
FUNCS = ["bare_encrypt", "packet_seal", "bare_decrypt", "packet_open", "packet_channel_open"]


def samples(size, func):
    d = json.load(open(os.path.join(root, f"sealed_{size}", func, "new", "sample.json")))
    per = sorted(t / i for t, i in zip(d["times"], d["iters"]))
    return per[0], per[len(per) // 2]


print("| body | bare encrypt | packet seal | seal ratio | bare decrypt | packet open | open ratio | channel open (no copy) |")
print("|---|---|---|---|---|---|---|---|")
for size in ["32B", "256B", "1200B", "16384B"]:
    r = {f: samples(size, f) for f in FUNCS}
    fmt = lambda v: f"{v[0] / 1000:.2f} µs ({v[1] / 1000:.2f})"
    print(
        f"| {size} | {fmt(r['bare_encrypt'])} | {fmt(r['packet_seal'])} | "
        f"{r['packet_seal'][0] / r['bare_encrypt'][0]:.2f}x ({r['packet_seal'][1] / r['bare_encrypt'][1]:.2f}x) | "
        f"{fmt(r['bare_decrypt'])} | {fmt(r['packet_open'])} | "
        f"{r['packet_open'][0] / r['bare_decrypt'][0]:.2f}x ({r['packet_open'][1] / r['bare_decrypt'][1]:.2f}x) | "
        f"{fmt(r['packet_channel_open'])} |"
    )

#!/usr/bin/env python3
"""Prints the transport table of BENCHMARKS.md from the last
`cargo bench -p packet-benches --bench transport` run.

Reads criterion's raw samples (target/criterion/tcp_echo_64B_*/<fn>/new/
sample.json) and takes the fastest per-iteration sample (robust on a
loaded, shared machine: preemption only ever adds time) and the median."""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
BATCH = 4096
FUNCS = [
    ("packet", "packet (tokio `TcpPacketStream`)"),
    ("packet_server_dispatch", "packet (tokio `Server`: sessions + dispatch)"),
    ("tokio_util_ld_bincode", "tokio-util `LengthDelimitedCodec` + bincode 2"),
]


def samples(group, func):
    d = json.load(open(os.path.join(root, f"tcp_echo_64B_{group}", func, "new", "sample.json")))
    per = sorted(t / i for t, i in zip(d["times"], d["iters"]))
    return per[0], per[len(per) // 2]


base_t = samples("throughput", "tokio_util_ld_bincode")
base_l = samples("latency", "tokio_util_ld_bincode")
print("| implementation | throughput, best (median) | vs baseline | round trip, best (median) | vs baseline |")
print("|---|---|---|---|---|")
for func, label in FUNCS:
    t = samples("throughput", func)
    l = samples("latency", func)
    rate = lambda ns: BATCH / (ns / 1e9) / 1e6
    print(
        f"| {label} | {rate(t[0]):.2f} M pkt/s ({rate(t[1]):.2f}) | "
        f"{base_t[0] / t[0]:.2f}x ({base_t[1] / t[1]:.2f}x) | "
        f"{l[0] / 1000:.1f} µs ({l[1] / 1000:.1f}) | "
        f"{base_l[0] / l[0]:.2f}x ({base_l[1] / l[1]:.2f}x) |"
    )

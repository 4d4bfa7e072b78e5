"""Markdown tables for scripts/gpu-check.sh from the JSON lines both libraries print.

  python3 report.py bench OUT_DIR          bench-{ts,st}-*.json (STS-B 2000, 1 epoch)
  python3 report.py recipe TS.json ST.json the full recipe: `ticketsim train` summary vs st_train.py
"""
from __future__ import annotations

import glob
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def gib(b):
    return "–" if b is None else f"{b / 2**30:.2f} GiB"


def spearman(m):
    d = m.get("dev_after") or {}
    return "–" if d.get("spearman") is None else f"{d['spearman']:.4f}"


def mean(xs):
    return sum(xs) / len(xs)


def bench(out):
    def runs(pattern):
        return [load(p) for p in sorted(glob.glob(os.path.join(out, pattern)))]

    st32, ts32 = runs("bench-st-f32-*.json"), runs("bench-ts-f32-*.json")
    st_amp = runs("bench-st-amp-*.json")
    rows = [("sentence-transformers f32", st32), ("ticketsim f32", ts32),
            ("sentence-transformers AMP (f16)", st_amp),
            ("ticketsim --precision f16", runs("bench-ts-f16-*.json")),
            ("ticketsim --precision bf16", runs("bench-ts-bf16-*.json"))]
    print("| run | pairs/s (each run) | mean | peak GPU memory | dev Spearman after |")
    print("|---|---|---|---|---|")
    for name, rs in rows:
        if not rs:
            continue
        pps = [r["pairs_per_second"] for r in rs]
        print(f"| {name} | {' / '.join(f'{p:.1f}' for p in pps)} | {mean(pps):.1f} | "
              f"{gib(max((r.get('peak_gpu_memory_bytes') or 0) for r in rs) or None)} | {spearman(rs[-1])} |")
    if st32 and ts32:
        r = mean([x["pairs_per_second"] for x in ts32]) / mean([x["pairs_per_second"] for x in st32])
        print(f"\nticketsim / PyTorch, f32: **{r:.2f}x** (target >= 0.9x)")
    for p in ("f16", "bf16"):
        ts = runs(f"bench-ts-{p}-*.json")
        if ts and st_amp:
            r = mean([x["pairs_per_second"] for x in ts]) / mean([x["pairs_per_second"] for x in st_amp])
            print(f"ticketsim {p} / PyTorch AMP: {r:.2f}x")


def recipe(ts_path, st_path):
    ts, st = load(ts_path), load(st_path)
    r = ts["pairs_per_second"] / st["pairs_per_second"]
    best = ts.get("best_eval") or {}
    print("| library | train pairs | epochs | pairs/s | dev / eval Spearman |")
    print("|---|---|---|---|---|")
    epochs = max((e["epoch"] for e in ts.get("epochs", [])), default=0)  # epoch 0 = the base model
    print(f"| ticketsim | {ts['train_pairs']} | {epochs} | {ts['pairs_per_second']:.1f} | "
          f"{best.get('spearman', float('nan')):.4f} (best epoch {ts.get('best_epoch')}) |")
    print(f"| sentence-transformers | {st['pairs']} | {st['epochs']} | {st['pairs_per_second']:.1f} | {spearman(st)} |")
    print(f"\nticketsim / PyTorch: **{r:.2f}x** (target >= 0.9x)")


if __name__ == "__main__":
    if sys.argv[1] == "bench":
        bench(sys.argv[2])
    else:
        recipe(sys.argv[2], sys.argv[3])

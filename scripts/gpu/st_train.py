"""PyTorch + sentence-transformers side of scripts/gpu-check.sh: the same fine-tuning run as
`ticketsim train` / `ticketsim bench train` on the same GPU, timed the same way (training only,
evaluation excluded), so the two pairs/s figures can be divided.

Usage:
  python3 st_train.py --model DIR --sts-train sts-train.csv --pairs 2000 [--sts-dev sts-dev.csv]
  python3 st_train.py --model DIR --training-pairs training_pairs.json --pairs N
options: --epochs 1 --batch-size 32 --lr 2e-5 --warmup 100 --max-seq-length 256 --seed 42 --amp

The recipe is the reference's (shared/reference/scripts/finetune.py): SentenceTransformer.old_fit,
CosineSimilarityLoss, AdamW (weight decay 0.01 except bias/LayerNorm), WarmupLinear, grad clip 1.0,
dropout active. --amp is old_fit's use_amp (float16 autocast with a gradient scaler). Prints one
JSON line: pairs, epochs, seconds, pairs_per_second, peak_gpu_memory_bytes
(torch.cuda.max_memory_allocated), dev Pearson/Spearman before and after when --sts-dev is given.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time


def load_sts(path: str):
    rows = []
    with open(path, encoding="utf-8") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(r) >= 7:
                try:
                    rows.append((r[5], r[6], float(r[4])))
                except ValueError:
                    continue  # a header line
    return rows


def load_training_pairs(path: str, seed: int):
    """training_pairs.json ({"positive_pairs": [[a, b]], "negative_pairs": [[a, b]]}), labels 1/0,
    shuffled with `seed`."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    rows = [(a, b, 1.0) for a, b in d.get("positive_pairs", [])]
    rows += [(a, b, 0.0) for a, b in d.get("negative_pairs", [])]
    random.Random(seed).shuffle(rows)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--sts-train")
    src.add_argument("--training-pairs")
    ap.add_argument("--sts-dev")
    ap.add_argument("--pairs", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--amp", action="store_true")
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu for a smoke test")
    a = ap.parse_args()

    import numpy as np
    import torch
    from torch.utils.data import DataLoader
    from sentence_transformers import InputExample, SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    except ImportError:  # older layouts
        from sentence_transformers.losses import CosineSimilarityLoss

    cuda = a.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("st_train.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 1
    if a.sts_train:
        rows = [(x, y, s / 5.0) for x, y, s in load_sts(a.sts_train)][: a.pairs]
    else:
        rows = load_training_pairs(a.training_pairs, a.seed)[: a.pairs]
    examples = [InputExample(texts=[x, y], label=float(s)) for x, y, s in rows]

    def seed_all():
        random.seed(a.seed)
        np.random.seed(a.seed)
        torch.manual_seed(a.seed)
        if cuda:
            torch.cuda.manual_seed_all(a.seed)

    seed_all()
    model = SentenceTransformer(a.model, device=a.device)
    model.max_seq_length = a.max_seq_length

    def dev_metrics():
        if not a.sts_dev:
            return None
        dev = load_sts(a.sts_dev)
        with torch.no_grad():
            e1 = model.encode([r[0] for r in dev], batch_size=32, convert_to_tensor=True,
                              normalize_embeddings=True, show_progress_bar=False)
            e2 = model.encode([r[1] for r in dev], batch_size=32, convert_to_tensor=True,
                              normalize_embeddings=True, show_progress_bar=False)
        cos = (e1 * e2).sum(-1).float().cpu().numpy()
        gold = np.array([r[2] for r in dev])
        from scipy.stats import pearsonr, spearmanr

        return {"pearson": float(pearsonr(cos, gold)[0]), "spearman": float(spearmanr(cos, gold)[0])}

    before = dev_metrics()
    fit = getattr(model, "old_fit", None)
    if fit is None:
        print("st_train.py: this sentence-transformers has no old_fit", file=sys.stderr)
        return 1
    seed_all()
    loader = DataLoader(examples, shuffle=True, batch_size=a.batch_size,
                        generator=torch.Generator().manual_seed(a.seed))
    loss = CosineSimilarityLoss(model)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    fit(
        train_objectives=[(loader, loss)],
        epochs=a.epochs,
        scheduler="WarmupLinear",
        warmup_steps=a.warmup,
        optimizer_class=torch.optim.AdamW,
        optimizer_params={"lr": a.lr},
        weight_decay=0.01,
        max_grad_norm=1.0,
        use_amp=a.amp,
        show_progress_bar=False,
    )
    if cuda:
        torch.cuda.synchronize()
    secs = time.perf_counter() - t
    out = {
        "library": "sentence-transformers",
        "versions": {"torch": torch.__version__,
                     "sentence_transformers": __import__("sentence_transformers").__version__},
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "amp": a.amp,
        "pairs": len(examples),
        "epochs": a.epochs,
        "seconds": secs,
        "pairs_per_second": len(examples) * a.epochs / secs,
        "peak_gpu_memory_bytes": torch.cuda.max_memory_allocated() if cuda else None,
        "dev_before": before,
        "dev_after": dev_metrics(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load a ticketsim output folder with Python sentence-transformers and compare its embeddings with
`ticketsim embed` on the same texts. Usage: st-load-check.py MODEL_DIR TICKETSIM_BIN"""
import json
import subprocess
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

model_dir, binary = sys.argv[1], sys.argv[2]
texts = [
    "VPN drops every hour since the update",
    "Printer on floor 3 shows offline, cannot print invoices",
    "Outlook crashes at start with error 0x800",
]
ours = subprocess.run(
    [binary, "embed", "--model", model_dir],
    input="\n".join(texts).encode(),
    capture_output=True,
    check=True,
).stdout.decode()
ours = np.array([json.loads(line)["embedding"] for line in ours.splitlines()])
model = SentenceTransformer(model_dir, device="cpu")
theirs = model.encode(texts, convert_to_numpy=True)
diff = float(np.abs(theirs - ours).max())
print(json.dumps({"model": model_dir, "max_seq_length": model.max_seq_length,
                  "modules": [type(m).__name__ for m in model], "max_abs_diff": diff}))
sys.exit(0 if diff < 1e-5 else 1)

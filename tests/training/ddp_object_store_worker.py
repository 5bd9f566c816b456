"""One rank of the two-process object-store training test (launched by torchrun): train with the run
folder on s3://, then record what this rank saw, and its weights, in a local report folder."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from training.distributed_setup import leave_process_group
from training.train_loop import train

if __name__ == "__main__":
    data, run, report, overrides = sys.argv[1], sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4])
    result = train(data, run, preset="cpu-small", steps=int(sys.argv[5]), resume=sys.argv[6] == "resume",
                   overrides=overrides)
    rank = os.environ["RANK"]
    torch.save(result.model.state_dict(), report / f"rank-{rank}.pt")
    (report / f"rank-{rank}.json").write_text(json.dumps({
        "step": result.step, "resumed_from": result.resumed_from, "run_dir": str(result.run_dir),
        "stored_at": result.stored_at, "bundle_dir": str(result.bundle_dir) if result.bundle_dir else None}))
    leave_process_group()

"""One DDP rank of the DDP test (launched by torchrun): train, then save this rank's weights."""

from __future__ import annotations

import json
import os
import sys

import torch

from training.distributed_setup import leave_process_group
from training.train_loop import train

if __name__ == "__main__":
    data, out, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = train(data, out, kind=sys.argv[4], steps=int(sys.argv[5]), overrides=overrides)
    torch.save(result.model.state_dict(), os.path.join(out, f"rank-{os.environ['RANK']}.pt"))
    leave_process_group()

"""Where this process runs: device, and (under torchrun) its DDP rank.

`torchrun --nproc_per_node=G -m cli.main train ...` sets RANK / WORLD_SIZE / LOCAL_RANK; we then
join the process group (NCCL on CUDA, gloo on CPU). Without those variables it is a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class ProcessPlace:
    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but no CUDA GPU is available")
        return torch.device("cuda", local_rank)
    return torch.device(preference)


def launched_world_size() -> int:
    """How many processes torchrun started for this run (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def launched_rank() -> int:
    """This process's global rank among them (0 without torchrun); unique across nodes."""
    return int(os.environ.get("RANK", "0"))


def join_process_group(preference: str = "auto") -> ProcessPlace:
    world_size = launched_world_size()
    rank = launched_rank()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(preference, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return ProcessPlace(device=device, rank=rank, world_size=world_size, local_rank=local_rank)


def leave_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(place: ProcessPlace) -> None:
    if place.distributed:
        dist.barrier()

"""Several training processes, one model: ``torchrun --nproc_per_node N -m sigdae train ...``.

torchrun starts the processes and sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; each process builds the
same model, data and corruption from the same seeds, draws the same global batch, and trains on its own
slice of it under DistributedDataParallel (NCCL on CUDA, gloo on the CPU), so the run equals a
single-process run at the same global batch. Rank 0 alone writes the run directory. Decisions that end an
epoch or the run (a stop request, the time budget) are agreed on by all processes at every step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from sigdae.errors import ConfigError


@dataclass(frozen=True)
class Group:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


SINGLE = Group()


def from_env() -> Group:
    """The process group torchrun describes in the environment, or a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    return Group(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def start(group: Group, device: torch.device) -> torch.device:
    """Join the process group; each process trains on its own GPU (``cuda:LOCAL_RANK``) or on the CPU."""
    if not group.active:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", group.local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ConfigError(f"several processes train on CUDA or the CPU, not on {device.type}")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def check_batch(group: Group, batch_size: int) -> None:
    if group.active and batch_size % group.world:
        raise ConfigError(f"train.batch_size={batch_size} must divide evenly among {group.world} processes")


class RawOutput(nn.Module):
    """The model's pre-activation output as ``forward`` (what DistributedDataParallel hooks into)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_raw(x)


def wrap(group: Group, model: nn.Module, device: torch.device) -> nn.Module:
    """A module whose call gives the raw output; gradients averaged over the processes when distributed.
    Batch norm is synchronised across GPUs (on the CPU each process normalises over its own slice)."""
    raw = RawOutput(model)
    if not group.active:
        return raw
    if device.type == "cuda":
        raw = nn.SyncBatchNorm.convert_sync_batchnorm(raw)
    return nn.parallel.DistributedDataParallel(raw, device_ids=[device.index] if device.type == "cuda" else None)


def shard(group: Group, batch: Any) -> Any:
    """This process's contiguous slice of a global batch (a tensor or a tuple of tensors)."""
    if not group.active:
        return batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(group, b) for b in batch)
    per = batch.shape[0] // group.world
    return batch[group.rank * per:(group.rank + 1) * per]


def agree(group: Group, device: torch.device, *flags: bool) -> list[bool]:
    """Each flag true if it is true in any process (a stop request, an exhausted time budget)."""
    if not group.active:
        return list(flags)
    votes = torch.tensor([float(f) for f in flags], device=device)
    dist.all_reduce(votes, op=dist.ReduceOp.MAX)
    return [bool(v) for v in votes.tolist()]


def finish(group: Group) -> None:
    if group.active and dist.is_initialized():
        dist.destroy_process_group()

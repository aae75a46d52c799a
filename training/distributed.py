"""Data-parallel training under torchrun: gloo on CPU, NCCL on GPU; a no-op in a plain process."""

from __future__ import annotations

import hashlib
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def setup(device: str) -> tuple[int, int, str]:
    """(rank, world size, this rank's device); joins the process group when torchrun started us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    if device.startswith("cuda"):
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    return dist.get_rank(), world, device


def teardown() -> None:
    """Leave the process group together: a rank that exits while its peers still hold the group can abort."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def wrap(module: nn.Module, world: int) -> nn.Module:
    """DistributedDataParallel averages gradients across ranks, so every rank holds the same weights."""
    return DistributedDataParallel(module) if world > 1 else module


def fingerprint(module: nn.Module) -> str:
    digest = hashlib.sha256()
    for p in module.parameters():
        digest.update(p.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def ranks_agree(module: nn.Module, world: int) -> bool:
    """Whether every rank holds bit-identical parameters."""
    if world == 1:
        return True
    prints: list[str | None] = [None] * world
    dist.all_gather_object(prints, fingerprint(module))
    return len(set(prints)) == 1

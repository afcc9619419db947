"""Data-parallel training across processes, with PyTorch's own DDP.

Training loops are written once for any number of processes against `world()`:

    w = world()
    model = w.wrap(model)                 # DistributedDataParallel when there are >1 ranks
    x, y = sample_global_batch(...)       # every rank draws the same global batch...
    loss = model(w.shard(x), w.shard(y))  # ...and trains on its own slice of it
    val = w.mean(local_val_loss)          # metrics averaged over ranks

Because every rank draws the same global batch from the same generator, a run on N processes
sees exactly the batches of a single-process run with the same global batch size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class World:
    """This process's rank among `size` processes (0 of 1 without torchrun)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's equal slice of a global batch (rows)."""
        if self.size == 1:
            return batch
        n = batch.shape[0]
        if n % self.size:
            from nnlab.errors import ConfigError

            raise ConfigError(
                f"a global batch of {n} cannot be split evenly over {self.size} processes; "
                f"choose a batch size divisible by {self.size}"
            )
        per = n // self.size
        return batch[self.rank * per : (self.rank + 1) * per]

    def mean(self, value: float | torch.Tensor) -> float:
        """`value` averaged over the ranks (as a float)."""
        if self.size == 1:
            return float(value)
        import torch
        import torch.distributed as dist

        t = torch.as_tensor(value, dtype=torch.float64).clone()
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return float(t) / self.size

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model to train: DistributedDataParallel over the ranks, or `model` itself."""
        if self.size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device = next(model.parameters()).device
        return DistributedDataParallel(
            model, device_ids=None if device.type == "cpu" else [device.index]
        )


def world() -> World:
    """The current process group's rank and size (rank 0 of 1 when none is initialised)."""
    import sys

    dist = sys.modules.get("torch.distributed")  # a group exists only if torch was imported
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return World()
    return World(dist.get_rank(), dist.get_world_size())

"""Data-parallel training across processes, with PyTorch's own DDP (see DISTRIBUTED.md).

Training loops are written once for any number of processes against `world()`:

    w = world()
    model = w.wrap(model)                 # DistributedDataParallel when there are >1 ranks
    x, y = sample_global_batch(...)       # every rank draws the same global batch...
    loss = model(w.shard(x), w.shard(y))  # ...and trains on its own slice of it
    val = w.mean(local_val_loss)          # metrics averaged over ranks

Because every rank draws the same global batch from the same generator, a run on N processes
sees exactly the batches of a single-process run with the same global batch size.

The runner joins the process group `torchrun` started with `launched(device)` and runs the
experiment inside `fail_together()`. Without torchrun's environment both do nothing and
torch is not even imported.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.errors import ConfigError, UserError

if TYPE_CHECKING:
    import torch
    from torch import nn

_store: Any = None  # the job's key-value store while launched() holds a process group


@dataclass(frozen=True)
class World:
    """This process's rank among `size` processes (0 of 1 without torchrun)."""

    rank: int = 0
    size: int = 1
    backend: str | None = None  # "gloo" or "nccl" when size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's equal slice of a global batch (rows)."""
        if self.size == 1:
            return batch
        n = batch.shape[0]
        if n % self.size:
            raise ConfigError(
                f"a global batch of {n} cannot be split evenly over {self.size} processes; "
                f"choose a batch size divisible by {self.size}"
            )
        per = n // self.size
        return batch[self.rank * per : (self.rank + 1) * per]

    def part(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch of any size: rows split as evenly as possible
        (the first `len % size` ranks get one more; a slice may be empty). Weigh each rank's
        loss by its share of the batch (see `fit_classifier`) so that DDP's average of the
        gradients is still the gradient of the whole batch."""
        if self.size == 1:
            return batch
        import torch

        return torch.tensor_split(batch, self.size)[self.rank]

    def total(self, value: float | torch.Tensor) -> float:
        """`value` summed over the ranks (as a float)."""
        if self.size == 1:
            return float(value)
        import torch
        import torch.distributed as dist

        t = torch.as_tensor(value, dtype=torch.float64).clone()
        if self.backend == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return float(t)

    def mean(self, value: float | torch.Tensor) -> float:
        """`value` averaged over the ranks (as a float)."""
        return self.total(value) / self.size

    def share(self, value: Any) -> Any:
        """Rank 0's `value` (anything picklable), on every rank."""
        if self.size == 1:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

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
    return World(dist.get_rank(), dist.get_world_size(), dist.get_backend())


def nodes() -> int:
    """How many machines (torchrun's nodes) the processes run on: 1 without torchrun."""
    env = from_environment()
    if env.size == 1:
        return 1
    if "GROUP_WORLD_SIZE" in os.environ:  # torchrun: the number of agents, one per node
        return int(os.environ["GROUP_WORLD_SIZE"])
    return max(1, env.size // int(os.environ.get("LOCAL_WORLD_SIZE", env.size)))


def from_environment() -> World:
    """The rank and size torchrun gave this process, read from its environment only (no
    process group needed): rank 0 of 1 when it was not started by torchrun."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return World()
    return World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]))


@contextmanager
def launched(device: torch.device | None) -> Iterator[torch.device | None]:
    """Inside the block, this process is one rank of the process group torchrun started
    (gloo on the CPU; nccl on GPUs, one per local rank); yields the device this rank trains
    on. With one process it does nothing and yields `device`.

    On the CPU each rank uses max(1, cores // processes on this machine) torch threads.
    torchrun stops every process (SIGTERM) as soon as one exits with an error; inside the
    block that signal raises the failed rank's error (see `fail_together`), so the run's
    record says why it ended.
    """
    global _store
    env = from_environment()
    if env.size == 1:
        yield device
        return
    if device is None or device.type not in ("cpu", "cuda"):
        where = "the NumPy engine" if device is None else f"the {device.type} device"
        raise UserError(
            f"this run trains on {where}, which cannot train across processes; "
            "run it without torchrun, or with --device cpu or cuda"
        )
    import torch
    import torch.distributed as dist

    # torchrun sets both; a launcher that does not is taken to start every process here
    local_rank = int(os.environ.get("LOCAL_RANK", env.rank))
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", env.size))
    threads = torch.get_num_threads()
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UserError(
                f"process {local_rank} on this machine has no GPU of its own "
                f"({torch.cuda.device_count()} found); start at most that many processes "
                "per machine (torchrun --nproc-per-node), or use --device cpu"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        from nnlab.training.threads import cores

        torch.set_num_threads(max(1, cores() // local_size))
    try:
        store, rank, size = next(dist.rendezvous("env://"))
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, store=store, rank=rank, world_size=size)
    except (RuntimeError, ValueError) as exc:
        torch.set_num_threads(threads)
        raise UserError(f"cannot join torchrun's processes: {exc}".split("\n")[0]) from None
    _store = dist.PrefixStore("nnlab", store)
    handler = signal.signal(signal.SIGTERM, _stopped)
    try:
        yield device
    except BaseException:  # end with this error (exit code 2), not as killed by torchrun
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise
    else:
        signal.signal(signal.SIGTERM, handler)
        # every rank leaves together: a rank tearing down gloo while another still talks to
        # it aborted now and then ("terminate called without an active exception")
        dist.barrier()
    finally:
        _store = None
        dist.destroy_process_group()
        torch.set_num_threads(threads)


def _post(rank: int, message: str) -> tuple[int, str] | None:
    """Post this rank's error unless another rank posted first; return the first (rank,
    message), or None if the store is gone (outside torchrun, rank 0 hosts it)."""
    try:
        first = _store.compare_set("first_error", "", f"{rank}\n{message}").decode()
    except RuntimeError:
        return None
    first_rank, first_message = first.split("\n", 1)
    return int(first_rank), first_message


def _stopped(signum: int, frame: Any) -> None:
    try:
        first = _store.get("first_error").decode() if _store.check(["first_error"]) else ""
    except RuntimeError:
        first = ""
    if not first:
        raise UserError("stopped by SIGTERM (torchrun stops every process when one fails)")
    first_rank, message = first.split("\n", 1)
    raise UserError(f"process {first_rank}: {message}")


@contextmanager
def fail_together() -> Iterator[None]:
    """Inside the block, an error on one rank ends every rank with that rank's error.

    The first rank to fail posts its message in the job's store and exits as soon as it can,
    which breaks the collectives the others wait in (or torchrun stops them). They raise the
    posted message as a UserError (`process 1: ...`) instead of a lost connection. A rank
    keeps its own UserError: on bad input every rank usually raises the same one. A failing
    rank ignores torchrun's SIGTERM while it finishes (rank 0 writes the run's record).
    Outside `launched()`: nothing.
    """
    if _store is None:
        yield
        return
    import torch.distributed as dist

    rank = dist.get_rank()
    try:
        yield
    except Exception as exc:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        own = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        first = _post(rank, own)
        if first is None or first[0] == rank or isinstance(exc, UserError):
            raise
        raise UserError(f"process {first[0]}: {first[1]}") from None

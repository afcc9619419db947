"""Worker processes for independent tasks (a search's trials, a study's trainings): each job
runs `target(job)` in its own spawned process, and a failed worker stops the others.

    run_workers([job0, job1], target=worker_main, poll=progress.update)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def shares(total: int, workers: int) -> list[int]:
    """`total` trials split over `workers` as evenly as possible (earlier workers first)."""
    total = max(0, total)
    return [total // workers + (i < total % workers) for i in range(workers)]


def run_workers(
    jobs: Sequence[Any],
    target: Callable[[Any], None],
    poll: Callable[[], None] | None = None,
    interval: float = 0.5,
    what: str = "worker",
) -> None:
    """Run `target(job)` for each job in its own spawned process; call `poll()` while they
    work; raise if a worker fails (the others are stopped). `target` must be importable (a
    module-level function) and `job` picklable."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=target, args=(job,), daemon=True) for job in jobs]
    try:
        for p in procs:
            p.start()
        while any(p.is_alive() for p in procs):
            if poll is not None:
                poll()
            time.sleep(interval)
            failed = [i for i, p in enumerate(procs) if p.exitcode not in (None, 0)]
            if failed:
                i = failed[0]
                raise RuntimeError(f"{what} {i} exited with code {procs[i].exitcode}")
        failed = [i for i, p in enumerate(procs) if p.exitcode != 0]
        if failed:
            i = failed[0]
            raise RuntimeError(f"{what} {i} exited with code {procs[i].exitcode}")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            if p.pid is not None:  # a process that failed to start cannot be joined
                p.join()
        if poll is not None:
            poll()

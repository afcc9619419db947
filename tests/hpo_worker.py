"""A search worker for tests/test_hpo_storage.py, run as its own process (a "machine"):

    python tests/hpo_worker.py STORAGE_URL STUDY SAMPLER BUDGET [--hang-at N] [--heartbeat S]
                               [--together DIR N]

It joins the study through `nnlab.training.hpo` (`worker_main`, as `nnlab run hparam-search` does)
and takes part until the study holds BUDGET completed trials. The objective is a cheap,
deterministic function of the parameters (`score`), so a search's best depends only on the
points it visits. With `--hang-at N` the trial numbered N never ends (the test kills the
process during it). With `--together DIR N` it waits until N workers have started (a file
each in DIR) before it joins, so that the workers overlap however long each takes to start.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field

from nnlab.training import hpo

SPACE = hpo.SearchSpace()
LEVELS = (3, 2, 2, 2)  # a grid of 24 points
SEED = 7


def score(params: dict) -> float:
    """Highest near lr 3e-3, width 128, dropout 0.1, batch 64; distinct values per point."""
    return (
        1.0
        - (math.log10(params["lr"]) - math.log10(3e-3)) ** 2 / 9
        - (math.log2(params["width"]) - 7) ** 2 / 50
        - (params["dropout"] - 0.1) ** 2
        - abs(math.log2(params["batch_size"]) - 6) / 100
    )


@dataclass
class Analytic:
    space: hpo.SearchSpace = field(default_factory=hpo.SearchSpace)
    worker: str = "main"
    hang_at: int = -1
    delay: float = 0.05

    def __call__(self, trial) -> float:
        params = self.space.suggest(trial)
        trial.set_user_attr("worker", self.worker)
        if trial.number == self.hang_at:
            print(f"hanging in trial {trial.number}", flush=True)
            while True:
                time.sleep(1)
        time.sleep(self.delay)  # lets the other process's trials interleave with these
        return score(params)


def job(url: str, study: str, sampler: str, budget: int, hang_at: int = -1, heartbeat: int = 1):
    return hpo.WorkerJob(
        objective=Analytic(SPACE, hang_at=hang_at),
        storage=url,
        tasks=[(sampler, study, None, SEED)],
        budget=budget,
        space=SPACE,
        levels=LEVELS,
        startup_trials=4,
        settings={"test": "hpo_worker", "budget": budget},
        threads=1,
        heartbeat=heartbeat,
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("study")
    p.add_argument("sampler")
    p.add_argument("budget", type=int)
    p.add_argument("--hang-at", type=int, default=-1)
    p.add_argument("--heartbeat", type=int, default=1)
    p.add_argument("--together", nargs=2, metavar=("DIR", "N"))
    a = p.parse_args(argv)
    if a.together:
        folder, n = a.together[0], int(a.together[1])
        open(os.path.join(folder, f"started.{os.getpid()}"), "w").close()
        deadline = time.monotonic() + 120
        while len(os.listdir(folder)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    hpo.worker_main(job(a.url, a.study, a.sampler, a.budget, a.hang_at, a.heartbeat))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

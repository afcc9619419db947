"""hparam-search: grid, random and Bayesian (TPE) search with one budget (seed 003).

The seed shows three ways to tune hyper-parameters: a uniform grid, random points, and
Bayesian optimisation ("hyperparameters adaptively chosen"). Here the three search the
same space with the same number of trials, using Optuna's ``GridSampler``,
``RandomSampler`` and ``TPESampler`` (multivariate) on one objective:

* space: learning rate log-uniform in [1e-4, 1e-1] (Adam), hidden width integer
  log-uniform in [16, 512] (one hidden layer), dropout uniform in [0, 0.5], batch size in
  {32, 64, 128, 256}. The grid is a small discretisation of the same space: ``grid_levels``
  values per parameter at the centres of equal (log) bins, with product = ``budget`` --
  by default as even as possible, extra levels to the learning rate (budget 32: 4 x 2 x 2 x 2).
* objective: validation accuracy after a short training (``epochs`` epochs on
  ``train_subset`` images; validation split disjoint from them). Initialisation, dropout and
  batch order use the run's seed, so the objective is a deterministic function of the
  parameters: all samplers search the same function.

One search is one draw: ``repeats`` independent searches per sampler (sampler seeds seed,
seed + 1, ...; the quick preset runs 3) give the mean best score the comparison uses. With
the grid the searches visit the same points in another order (scores are remembered, so
this costs nothing). After the searches, each sampler's best parameters are retrained with
``reeval_seeds`` seeds (the first is the search's own), giving the seed-to-seed noise of
the objective and the test accuracy of the chosen configuration. The summary says whether
TPE >= random >= grid held and, when not, whether the differences are within that noise.

Distributed search: ``--set storage=URL`` keeps the studies (``<study>-grid``,
``<study>-random``, ``<study>-tpe``, and ``<study>-<sampler>-<k>`` for the further searches)
in a shared storage: ``sqlite:///study.db`` (one machine), ``postgresql+psycopg://user@host/db``
(a PostgreSQL server every machine reaches; ``pip install 'nnlab[pg]'``; the password from
``PGPASSWORD`` or ``~/.pgpass`` rather than the URL, which config.json records) or
``journal:///study.log`` / ``journal:////shared/study.log`` (Optuna's journal file, e.g. on
a filesystem every machine mounts). Run the same command (same seed and settings) in several
processes or on several machines and they join the studies (``load_if_exists``) until each
holds ``budget`` completed trials; each waits for the others' trials, so every run reports
the whole studies. A worker killed mid-trial stops its heartbeat (``heartbeat`` seconds);
after twice that the trial is failed and another worker runs it again. The grid's points
are shared out by trial number, so a grid search over several processes runs exactly the
points (and finds the best) of a one-process search.
``--set workers=N`` starts N local worker processes (spawned) that share the work; without
a storage they use ``<run dir>/study.db``. With a database, sampler seeds differ per process
(drawn from host and process id), so the search is not reproducible; with ``workers=1``
and the default in-memory storage it is (same seed -> identical summary). Workers run one
torch thread each (``threads``).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import SAMPLERS, ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run
    from nnlab.training import hpo

LABELS = {"grid": "grid", "random": "random", "tpe": "TPE (Bayesian)"}
COLORS = {"grid": "C0", "random": "C1", "tpe": "C2"}


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist", "kmnist"] = "fashion-mnist"
    samplers: tuple[str, ...] = param(
        SAMPLERS, help=f"samplers to compare, from {', '.join(SAMPLERS)}"
    )
    budget: int = param(
        32, low=1, high=10_000, help="trials per search (the same for every sampler)"
    )
    repeats: int = param(
        1,
        low=1,
        high=100,
        help="independent searches per sampler (sampler seeds seed, seed+1, ...)",
    )
    grid_levels: tuple[int, ...] = param(
        (),
        low=1,
        high=100,
        help="grid values of lr, width, dropout, batch_size (product = budget); "
        "empty: as even as possible",
    )
    train_subset: int = param(10000, low=1, high=10_000_000, help="training images per trial")
    val_size: int = param(5000, low=1, high=10_000_000, help="validation images (the objective)")
    epochs: int = param(3, low=1, high=1_000, help="epochs of each trial's training")
    lr_low: float = param(1e-4, low=0.0, low_open=True)
    lr_high: float = param(1e-1, low=0.0, low_open=True)
    width_low: int = param(16, low=1, high=8_192)
    width_high: int = param(512, low=1, high=8_192)
    dropout_high: float = param(0.5, low=0.0, high=0.95)
    batch_sizes: tuple[int, ...] = param((32, 64, 128, 256), low=1, high=1_000_000)
    tpe_startup: int = param(
        8, low=1, high=10_000, help="random trials before TPE models the space"
    )
    reeval_seeds: int = param(
        3, low=0, high=100, help="seeds to retrain each sampler's best (0: skip)"
    )
    storage: str = param(
        "",
        help="where the studies live: sqlite:///study.db, "
        "postgresql+psycopg://user@host/db or journal:///study.log (empty: in memory)",
    )
    study: str = param("nnlab-hparam-search", help="study name prefix in the storage")
    workers: int = param(1, low=1, high=64, help="local worker processes")
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads per worker (0: torch's default)"
    )
    heartbeat: int = param(
        30,
        low=1,
        high=3_600,
        help="seconds between a worker's signs of life in a shared storage; a trial silent "
        "for twice that is failed and run again",
    )

    def check(self) -> None:
        unknown = [s for s in self.samplers if s not in SAMPLERS]
        if unknown or not self.samplers:
            raise ConfigError(
                f"unknown sampler(s) {', '.join(unknown) or '(none given)'} in 'samplers'; "
                f"choose from {', '.join(SAMPLERS)}"
            )
        if len(set(self.samplers)) != len(self.samplers):
            raise ConfigError("setting 'samplers' names a sampler twice; list each once")
        if self.lr_low >= self.lr_high or self.width_low >= self.width_high:
            raise ConfigError("need lr_low < lr_high and width_low < width_high")
        if len(set(self.batch_sizes)) != len(self.batch_sizes) or not self.batch_sizes:
            raise ConfigError("setting 'batch_sizes' must list distinct batch sizes")
        if self.grid_levels:
            if len(self.grid_levels) != 4:
                raise ConfigError(
                    "setting 'grid_levels' needs 4 numbers: lr, width, dropout, batch_size"
                )
            if math.prod(self.grid_levels) != self.budget:
                raise ConfigError(
                    f"grid_levels {','.join(map(str, self.grid_levels))} make "
                    f"{math.prod(self.grid_levels)} grid points but budget is {self.budget}; "
                    "the grid must use the same budget as the other samplers"
                )
            if self.grid_levels[3] > len(self.batch_sizes):
                raise ConfigError(
                    f"grid_levels asks for {self.grid_levels[3]} batch sizes; "
                    f"batch_sizes has only {len(self.batch_sizes)}"
                )
        if self.storage and "://" not in self.storage:
            raise ConfigError(
                "setting 'storage' must be a URL such as sqlite:///study.db, "
                f"postgresql+psycopg://user@host/db or journal:///study.log; got {self.storage!r}"
            )
        if self.storage.startswith("journal:") and (
            not self.storage.startswith("journal:///") or self.storage == "journal:///"
        ):
            raise ConfigError(
                "setting 'storage' names a journal file as journal:///study.log (relative) "
                f"or journal:////shared/study.log (absolute); got {self.storage!r}"
            )
        if not self.study.strip():
            raise ConfigError("setting 'study' must not be empty")

    def space(self) -> hpo.SearchSpace:
        from nnlab.training import hpo

        return hpo.SearchSpace(
            lr=(self.lr_low, self.lr_high),
            width=(self.width_low, self.width_high),
            dropout=(0.0, self.dropout_high),
            batch_sizes=self.batch_sizes,
        )

    def levels(self) -> tuple[int, ...]:
        from nnlab.training import hpo

        return self.grid_levels or hpo.balanced_levels(self.budget, len(self.batch_sizes))


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "budget": 8,
        "train_subset": 1000,
        "val_size": 347,
        "epochs": 2,
        "width_high": 128,
        "tpe_startup": 4,
        "reeval_seeds": 2,
    },
    "quick": {"repeats": 3},
    "full": {
        "budget": 64,
        "repeats": 3,
        "train_subset": 50000,
        "val_size": 10000,
        "epochs": 10,
    },
}


def verdict(
    results: list[dict[str, Any]], noise: float | None, repeats: int = 1
) -> tuple[bool | None, str]:
    """Whether TPE >= random >= grid held for the (mean over searches) best validation
    accuracy (None if a sampler is missing), and why."""
    by = {r["sampler"]: r["mean_best"] for r in results}
    what = f"mean best of {repeats} searches" if repeats > 1 else "best validation accuracy"
    text = ", ".join(f"{LABELS[s]} {100 * v:.2f}%" for s, v in by.items())
    if not {"grid", "random", "tpe"} <= set(by):
        return None, f"{what}: {text}"
    holds = by["tpe"] >= by["random"] >= by["grid"]
    spread = max(by.values()) - min(by.values())
    noise_text = (
        f"; retraining one configuration with other seeds moves its score by "
        f"{100 * noise:.2f} points (standard deviation)"
        if noise is not None
        else ""
    )
    within = noise is not None and spread < 2 * noise
    if holds:
        why = f"TPE >= random >= grid holds ({what}): {text}{noise_text}"
        if within:
            why += (
                f" -- but the spread of the three ({100 * spread:.2f} points) is within "
                "twice that noise, so the order is not significant"
            )
        return True, why
    order = " >= ".join(LABELS[s] for s in sorted(by, key=lambda s: -by[s]))
    why = f"TPE >= random >= grid does not hold ({what}): {text}, order {order}{noise_text}"
    if within:
        why += (
            f". The spread ({100 * spread:.2f} points) is within twice that noise: with this "
            "budget every sampler reaches the broad plateau of this space (Adam with lr "
            "near 1e-3 and a wide enough layer), and which one lands highest is luck"
        )
    else:
        why += (
            ". With a small budget TPE spends its first trials at random and has few "
            "model-guided trials"
            + ("; a single search per sampler is one draw" if repeats == 1 else "")
        )
    return False, why


def study_name(cfg: Config, sampler: str, k: int) -> str:
    return f"{cfg.study}-{sampler}" + (f"-{k}" if k else "")


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.training import hpo, studies
    from nnlab.training.tensors import split_indices
    from nnlab.training.threads import torch_threads
    from nnlab.viz import best_so_far_curves, explored_points, text_figure, text_table, wrap_words

    plural = "s" if len(cfg.samplers) > 1 else ""
    studies.require_optuna(  # fail before loading data when Optuna is missing
        f"hparam-search with sampler{plural} {', '.join(cfg.samplers)}"
    )
    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    train_idx, val_idx = split_indices(len(data.x_train), cfg.train_subset, cfg.val_size, run.seed)
    x_fit = data.x_train[train_idx]
    mean, std = float(x_fit.mean()), float(x_fit.std())
    rows = functools.partial(hpo.standardised_rows, mean=mean, std=std)
    space, levels = cfg.space(), cfg.levels()
    objective = hpo.Objective(
        rows(x_fit),
        data.y_train[train_idx].astype(np.int64),
        rows(data.x_train[val_idx]),
        data.y_train[val_idx].astype(np.int64),
        n_classes=len(data.class_names),
        epochs=cfg.epochs,
        seed=run.seed,
        space=space,
    )
    x_test, y_test = rows(data.x_test), data.y_test.astype(np.int64)
    settings = {"dataset": cfg.dataset, **hpo.settings_of(objective, cfg.budget, levels)}

    storage_url = cfg.storage
    if cfg.workers > 1 and not storage_url:
        storage_url = f"sqlite:///{(run.dir / 'study.db').resolve()}"
    # one search = one study: every sampler, `repeats` times with sampler seeds seed + k
    searches = [
        hpo.Search(s, study_name(cfg, s, k), run.seed + k)
        for s in cfg.samplers
        for k in range(cfg.repeats)
    ]
    trials = hpo.run_searches(
        run,
        objective,
        searches,
        budget=cfg.budget,
        levels=levels,
        startup_trials=cfg.tpe_startup,
        settings=settings,
        storage_url=storage_url,
        workers=cfg.workers,
        threads=cfg.threads,
        heartbeat=cfg.heartbeat,
        desc=f"{data.name} search",
    )

    runs = {s: [trials[study_name(cfg, s, k)] for k in range(cfg.repeats)] for s in cfg.samplers}
    # log every trial (after the last checkpoint, so a resumed run logs them again): step =
    # position in the search; the first search's score and the mean best-so-far
    for name, per_search in runs.items():
        curves = [np.maximum.accumulate([t["value"] for t in ts]) for ts in per_search]
        n_steps = min(len(c) for c in curves)
        for i in range(n_steps):
            run.log(
                i + 1,
                **{
                    f"{name}_score": per_search[0][i]["value"],
                    f"{name}_best": float(np.mean([c[i] for c in curves])),
                },
            )

    # retrain each sampler's best with several seeds: noise of the objective, test accuracy
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with torch_threads(cfg.threads):
        for name, per_search in runs.items():
            r = {"sampler": name, **hpo.best_of(name, per_search)}
            if cfg.reeval_seeds:
                seeds = [run.seed + j for j in range(cfg.reeval_seeds)]
                r.update(hpo.retrain(objective, r["best_params"], seeds, x_test, y_test))
            results.append(r)
    run.record_time("reeval_seconds", time.perf_counter() - started)

    stds = [r["reeval_val_std"] for r in results if r.get("reeval_val_std") is not None]
    noise = float(np.mean(stds)) if stds else None
    holds, why = verdict(results, noise, cfg.repeats)
    top = max(results, key=lambda r: r["best_value"])

    setup = (
        f"{data.name}, {len(train_idx)} train / {len(val_idx)} val images, "
        f"{cfg.epochs} epochs per trial, {cfg.budget} trials per search"
    )
    run.figure(
        "learning_curves",
        best_so_far_curves(
            {s: [[t["value"] for t in ts] for ts in per_search] for s, per_search in runs.items()},
            budget=cfg.budget,
            title=f"Best validation accuracy so far\n({setup})",
            labels=LABELS,
            colors=COLORS,
        ),
        "Best validation accuracy found so far against the trial number, one colour per "
        "sampler (same space, same budget"
        + (
            f"; thin lines: each of {cfg.repeats} searches, thick: their mean"
            if cfg.repeats > 1
            else ""
        )
        + "); dots are the individual trials (the axis is zoomed on the best-so-far curves, "
        "so poor trials fall below it).",
    )
    pooled = {s: [t for ts in per_search for t in ts] for s, per_search in runs.items()}
    run.figure(
        "explored_points",
        explored_points(
            pooled,
            x="lr",
            y="width",
            size="batch_size",
            sizes=space.batch_sizes,
            xlim=(space.lr[0] / 1.3, space.lr[1] * 1.3),
            ylim=(space.width[0] / 1.2, space.width[1] * 1.2),
            xlabel="learning rate (Adam, log scale)",
            ylabel="hidden width (units, log scale)",
            title="Explored points coloured by validation accuracy, marker size by batch size "
            f"({setup})",
            labels=LABELS,
        ),
        "Every trial's learning rate and hidden width"
        + (f" (all {cfg.repeats} searches)" if cfg.repeats > 1 else "")
        + ", coloured by its validation accuracy (one colour scale; the worst 10% saturate at "
        "the bottom), marker size by batch size; the red star is the sampler's best. Dropout "
        "is not shown, so grid points that differ only in dropout or batch size overlap.",
    )
    table_rows = []
    for r in results:
        p = r["best_params"]
        reeval = (
            f"{100 * r['reeval_val_mean']:.2f} ± {100 * (r['reeval_val_std'] or 0):.2f}"
            if "reeval_val_mean" in r
            else "-"
        )
        table_rows.append(
            (
                LABELS[r["sampler"]],
                r["n_trials"],
                f"{100 * r['best_value']:.2f}",
                f"{100 * r['mean_best']:.2f}"
                + (f" ± {100 * r['std_best']:.2f}" if "std_best" in r else ""),
                f"{p['lr']:.2g}",
                p["width"],
                f"{p['dropout']:.2f}",
                p["batch_size"],
                reeval,
                f"{100 * r['test_accuracy']:.2f}" if "test_accuracy" in r else "-",
            )
        )
    lines = text_table(
        (
            "sampler",
            "trials",
            "best val %",
            f"mean best of {cfg.repeats}",
            "lr",
            "width",
            "dropout",
            "batch",
            f"val % over {cfg.reeval_seeds} seeds",
            "test %",
        ),
        table_rows,
    )
    lines += [
        "",
        f"grid: {levels[0]} lr x {levels[1]} width x {levels[2]} dropout x "
        f"{levels[3]} batch = {math.prod(levels)} points",
    ]
    lines += wrap_words(why, max(70, len(lines[0])))
    run.figure(
        "search_table",
        text_figure(lines, f"Best configuration per sampler ({setup})"),
        "Best validation accuracy per sampler (over all its searches) and its parameters; "
        "the mean (± standard deviation) of the searches' best; the best configuration "
        "retrained with several seeds (mean ± standard deviation of validation accuracy) "
        "and its test accuracy (search seed).",
    )
    return {
        "best_val_accuracy": top["best_value"],
        "best_sampler": top["sampler"],
        **{f"best_val_accuracy_{r['sampler']}": r["best_value"] for r in results},
        **{f"mean_best_val_accuracy_{r['sampler']}": r["mean_best"] for r in results},
        "tpe_ge_random_ge_grid": holds,
        "verdict": why,
        "noise_std": noise,
        "results": results,
        "grid": space.grid(levels),
        "grid_levels": list(levels),
        "budget": cfg.budget,
        "repeats": cfg.repeats,
        "total_trials": sum(r["n_trials"] for r in results),
        "storage": studies.storage_kind(storage_url),
        "workers": cfg.workers,
        "dataset": cfg.dataset,
        "n_train": len(train_idx),
        "n_val": len(val_idx),
        "trial_epochs": cfg.epochs,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)

"""What tests/test_distributed.py starts in several processes (under torchrun or with its
environment set by hand):

    python tests/ddp_probe.py train OUT_DIR STEPS   # train a tiny GPT, save losses and weights
    python tests/ddp_probe.py nnlab ARGS...         # `nnlab ARGS...` knowing the `ddp-probe`
                                                    #   experiment below

`train` is the training loop the test also runs in one process, so both see the same global
batches: a tiny character GPT, AdamW, each step's global batch drawn from one generator on
every rank and sliced with `World.shard`.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path

import torch

from nnlab.config import ExperimentConfig, param
from nnlab.errors import UserError
from nnlab.experiments import Experiment
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.training.distributed import World, world

VOCAB, BLOCK = 16, 8
# a learnable stream: each token follows from the last ones
TEXT = torch.tensor([(3 * i + i // 7) % VOCAB for i in range(4000)])


def global_batch(g: torch.Generator, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    starts = torch.randint(len(TEXT) - BLOCK - 1, (batch,), generator=g)
    x = torch.stack([TEXT[s : s + BLOCK] for s in starts])
    y = torch.stack([TEXT[s + 1 : s + BLOCK + 1] for s in starts])
    return x, y


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=VOCAB, block_size=BLOCK, n_layer=2, n_head=2, n_embd=16)
    return GPT(dataclasses.replace(cfg, dropout=0.0))


def train(w: World, steps: int, batch: int = 16) -> tuple[list[float], dict[str, torch.Tensor]]:
    """Per-step training loss (averaged over ranks) and the final weights."""
    raw = tiny_gpt()
    model = w.wrap(raw)
    opt = torch.optim.AdamW(raw.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        x, y = global_batch(g, batch)
        _, loss = model(w.shard(x), w.shard(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(w.mean(loss.detach()))
    return losses, {k: v.clone() for k, v in raw.state_dict().items()}


# --------------------------------------------------------------------- the ddp-probe experiment


@dataclasses.dataclass
class ProbeConfig(ExperimentConfig):
    steps: int = param(12, low=1, high=1000)
    batch_size: int = param(8, low=1, high=1024)
    fail_rank: int = param(-1, low=-1, high=64, help="the rank that fails (-1: none)")
    fail_step: int = param(-1, low=-1, high=1000, help="the step it fails at, unless resumed")


class _Png:
    """Stands in for a matplotlib Figure in `run.figure`."""

    def savefig(self, buf, **_):
        from PIL import Image

        Image.new("RGB", (8, 8), "white").save(buf, "PNG")


def probe_run(cfg: ProbeConfig, run) -> dict:
    w = world()
    raw = tiny_gpt()
    model = w.wrap(raw)
    opt = torch.optim.AdamW(raw.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(run.seed)
    start = 0
    state = run.load_checkpoint()
    if state is not None:
        raw.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        g.set_state(state["generator"])
        start = state["step"] + 1
    resumed = state is not None
    for step in range(start, cfg.steps):
        if step == cfg.fail_step and w.rank == cfg.fail_rank and not resumed:
            raise UserError(f"probe fails on purpose at step {step}")
        x, y = global_batch(g, cfg.batch_size)
        _, loss = model(w.shard(x), w.shard(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log(step, train_loss=w.mean(loss.detach()))
        if step % 4 == 3:
            run.save_checkpoint(
                {"model": raw.state_dict(), "opt": opt.state_dict(), "step": step,
                 "generator": g.get_state()}
            )  # fmt: skip
    history = run.history()
    if [h["step"] for h in history] != list(range(cfg.steps)):  # on every rank
        raise RuntimeError(f"rank {w.rank} has history steps {[h['step'] for h in history]}")
    run.figure("probe", _Png(), "an 8x8 white square")
    run.save_model("probe", raw.state_dict())
    run.write_text("probe.txt", f"written by rank {w.rank}\n")
    run.record_time("train_seconds", 0.5)
    weights = torch.cat([p.detach().flatten() for p in raw.parameters()])
    return {
        "train_loss": history[-1]["train_loss"],
        "weights_sum": float(weights.double().sum()),
        "ranks_agree": w.mean(weights.double().sum()) == float(weights.double().sum()),
    }


PROBE = Experiment(
    name="ddp-probe",
    description="a tiny GPT trained data-parallel (test only)",
    reproduces="nothing (test)",
    config=ProbeConfig,
    presets={"smoke": {}, "quick": {}, "full": {}},
    run=probe_run,
    headline="train_loss",
    mode="min",
    data_parallel=True,
)


def main(argv: list[str]) -> int:
    if argv[0] == "train":
        from nnlab.training.distributed import launched

        out, steps = Path(argv[1]), int(argv[2])
        with launched(torch.device("cpu")):
            w = world()
            losses, weights = train(w, steps)
            buf = io.BytesIO()
            torch.save({"losses": losses, "weights": weights, "threads": torch.get_num_threads(),
                        "world": (w.rank, w.size, w.backend)}, buf)  # fmt: skip
            (out / f"rank{w.rank}.pt").write_bytes(buf.getvalue())
        return 0
    import nnlab.experiments
    from nnlab import cli

    known = nnlab.experiments.registry
    nnlab.experiments.registry = lambda: {**known(), PROBE.name: PROBE}
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

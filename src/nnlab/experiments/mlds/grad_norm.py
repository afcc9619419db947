"""grad-norm: the gradient norm and the loss at every iteration of one training (MLDS HW1
1-2, seed 002 "observe gradient norm during training").

The gradient norm is √(Σ_p ‖∂L/∂p‖²) over all parameters p, of the mini-batch loss the step
was taken on; it is drawn with the loss on the same iterations, and per layer (weights and
bias of each Linear). The seed described its norm as "the sum of the norms of the gradients
of each parameter" — Σ_p ‖∂L/∂p‖, which is not the gradient's norm (it is at least as large,
by the triangle inequality); that sum is recorded too (`sum_of_norms`), so the two can be
compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, Optimizer, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    hidden: tuple[int, ...] = param((128, 64), low=1, high=8_192)
    optimizer: Optimizer = "adam"
    lr: float = param(1e-3, low=0.0, low_open=True)
    batch_size: int = param(128, low=1, high=1_000_000)
    epochs: int = param(8, low=1, high=10_000)
    train_subset: int = param(10_000, low=0, high=10_000_000, help="training images (0: all)")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "hidden": (32,), "epochs": 4, "batch_size": 64},
    "quick": {},
    "full": {"train_subset": 0, "epochs": 20},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data import load_dataset
    from nnlab.models import MLP
    from nnlab.training.classifier import evaluate, train_epoch
    from nnlab.training.optim import make_optimizer
    from nnlab.training.tensors import batches, flat_tensors
    from nnlab.viz import Line, LinePanel, line_panels, moving_average

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    model = MLP(x.shape[1], cfg.hidden, len(data.class_names)).to(run.device)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, device=run.device)
    order = torch.Generator().manual_seed(run.seed)
    records: list[torch.Tensor] = []  # per step: loss, norm, sum of norms, per-layer norms

    def record(loss: torch.Tensor) -> None:
        # after the step the gradients it used are still in .grad (zeroed before the next)
        per_tensor = torch.stack([p.grad.norm() for p in model.parameters()])
        per_layer = [torch.cat([m.weight.grad.reshape(-1), m.bias.grad]).norm() for m in layers]
        records.append(
            torch.stack([loss, per_tensor.square().sum().sqrt(), per_tensor.sum(), *per_layer])
        )

    bar = run.bar(total=cfg.epochs, desc="grad-norm", unit="epoch")
    for epoch in range(1, cfg.epochs + 1):
        train_epoch(model, opt, None, x, y, batches(len(x), cfg.batch_size, order), on_step=record)
        test_loss, test_acc, _ = evaluate(model, x_test, y_test)
        run.log(epoch, test_loss=test_loss, test_accuracy=test_acc)
        bar.update(1)
    bar.close()
    table = torch.stack(records).cpu().double()
    steps = list(range(1, len(table) + 1))
    loss, norm, sum_norms = table[:, 0], table[:, 1], table[:, 2]
    window = max(1, len(steps) // 50)

    def lines(values: torch.Tensor, label: str) -> list[Line]:
        at, smooth = moving_average(values.numpy(), window)
        raw = [Line(steps, values.tolist(), f"{label}, every iteration")]
        if window == 1:
            return raw
        return [*raw, Line(at.tolist(), smooth.tolist(), f"{label}, {window}-iteration mean")]

    layer_lines = []
    for i, m in enumerate(layers):
        at, smooth = moving_average(table[:, 3 + i].numpy(), window)
        label = f"layer {i + 1} ({m.in_features}→{m.out_features})"
        layer_lines.append(Line(at.tolist(), smooth.tolist(), label))
    run.figure(
        "grad_norm",
        line_panels(
            [
                LinePanel(
                    lines(loss, "loss"), "mini-batch loss", "cross-entropy (nats, log)", log=True
                ),
                LinePanel(lines(norm, "‖g‖"), "gradient norm √(Σ‖∂L/∂p‖²)", "‖g‖ (log)", log=True),
                LinePanel(layer_lines, "gradient norm per layer", "‖∂L/∂layer‖ (log)", log=True),
            ],  # fmt: skip
            title=f"{cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size} on {data.name}: "
            "loss and gradient norm at every iteration",
            xlabel="iteration",
        ),
        "Loss, gradient norm and per-layer gradient norms (moving mean) of the mini-batch each "
        "step was taken on; the spikes at epoch ends are the smaller last batch of each epoch.",
    )
    last = max(1, len(steps) // 10)
    return {
        "dataset": cfg.dataset,
        "iterations": len(steps),
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "first_grad_norm": float(norm[0]),
        "mean_grad_norm_last_10pct": float(norm[-last:].mean()),
        "first_loss": float(loss[0]),
        "mean_loss_last_10pct": float(loss[-last:].mean()),
        "max_grad_norm": float(norm.max()),
        "max_grad_norm_iteration": int(norm.argmax()) + 1,
        "sum_of_norms_over_norm_mean": float((sum_norms / norm).mean()),
        "layer_grad_norm_last_10pct": [
            float(table[-last:, 3 + i].mean()) for i in range(len(layers))
        ],
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)

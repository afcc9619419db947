"""Sampling from a trained noise predictor: weights + schedule + sampler, as one object.

    pipe = DiffusionPipeline.from_file("runs/ddpm/…/checkpoints/ema.pt")
    images = pipe.sample(16, sampler="ddim", steps=50, generator=torch.Generator().manual_seed(0))

The file holds everything sampling needs, so nothing is rebuilt by hand or guessed: the
network's weights and config, the schedule's own config (`{"kind": "linear", "T": 1000,
"beta_start": 1e-4, "beta_end": 0.02}`), the image shape and whether steps clip x0. Files
written before the schedule config and image shape were saved still load: their schedule is
the named kind with its default parameters, and the image size follows their dataset;
`legacy_note` says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from nnlab.diffusion.samplers import Trajectory, sample_ddim, sample_ddpm
from nnlab.diffusion.schedules import NoiseSchedule
from nnlab.errors import ConfigError

SAMPLERS = ("ddpm", "ddim")
MAX_T = 100_000  # ddpm's own bound on T
MAX_SIDE = 1024  # pixels a side of the images a file may ask to sample
_SCHEDULE_PARAMS = {"linear": ("beta_start", "beta_end"), "cosine": ("s", "max_beta")}


def schedule_config(kind: str, T: int, **params: float) -> dict[str, Any]:
    """The saved description of a schedule; `make_schedule` builds it back."""
    if kind not in _SCHEDULE_PARAMS:
        raise ConfigError(f"unknown noise schedule '{kind}'; choose linear or cosine")
    unknown = set(params) - set(_SCHEDULE_PARAMS[kind])
    if unknown:
        raise ConfigError(f"the {kind} schedule takes no {', '.join(sorted(unknown))}")
    return {"kind": kind, "T": T, **params}


def make_schedule(config: dict[str, Any]) -> NoiseSchedule:
    """The `NoiseSchedule` a `schedule_config` describes (the one place a kind is built)."""
    params = {k: v for k, v in config.items() if k not in ("kind", "T")}
    schedule_config(config["kind"], config["T"], **params)  # validates
    build = NoiseSchedule.linear if config["kind"] == "linear" else NoiseSchedule.cosine
    return build(config["T"], **params)


@dataclass
class DiffusionPipeline:
    """A noise predictor `model(x_t, t[, labels]) -> eps`, its schedule and image shape."""

    model: torch.nn.Module
    schedule: NoiseSchedule
    schedule_config: dict[str, Any]
    image_shape: tuple[int, int, int]
    clip_x0: bool = True
    memory_format: torch.memory_format = torch.contiguous_format
    legacy_note: str | None = None
    precision: str = "fp32"  # "bf16": the network runs under bfloat16 autocast

    def state(self, **extra: Any) -> dict[str, Any]:
        """What `from_file` reads back: weights, network config, schedule, shape, clipping."""
        return {
            "model": self.model.state_dict(),
            "unet": asdict(self.model.cfg),
            "schedule": self.schedule_config,
            "image_shape": list(self.image_shape),
            "clip_x0": self.clip_x0,
            **extra,
        }

    @classmethod
    def from_file(cls, path: str | Path, device: torch.device | str = "cpu") -> DiffusionPipeline:
        from nnlab.models.loading import build_checked
        from nnlab.models.unet import UNet, UNetConfig

        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            unet, weights = dict(state["unet"]), state["model"]
            note = None
            if isinstance(state["schedule"], dict):
                config, shape = dict(state["schedule"]), tuple(int(v) for v in state["image_shape"])
            else:  # saved before the schedule config and the image shape were
                config = schedule_config(state["schedule"], state["T"])
                size = 28 if state["dataset"] != "digits" else 8
                shape = (1, size, size)
                note = (
                    f"{path} predates saved schedules: assuming the default {state['schedule']} "
                    f"schedule (T = {state['T']}) and {size}x{size} images from its dataset"
                )
        except Exception as exc:  # any damaged or foreign file means the same to the user
            raise ConfigError(f"{path} is not a ddpm model ({type(exc).__name__})") from None
        # the file chooses what sampling allocates: the schedule's length and the image size
        # within bounds, the network no larger than the weights the file carries
        if not (isinstance(config.get("T"), int) and 2 <= config["T"] <= MAX_T):
            raise ConfigError(
                f"{path} asks for a schedule of T = {config.get('T')!r} steps (at most {MAX_T:,})"
            )
        if (
            len(shape) != 3
            or not 1 <= shape[0] <= 4
            or not all(1 <= v <= MAX_SIDE for v in shape[1:])
        ):
            raise ConfigError(
                f"{path} asks for images of shape {shape} (at most 4 x {MAX_SIDE} x {MAX_SIDE})"
            )
        model = build_checked(lambda: UNet(UNetConfig(**unet)), weights, f"{path} (a ddpm U-Net)")
        device = torch.device(device)
        return cls(
            model.to(device).eval(),
            make_schedule(config).to(device),
            config,
            shape,
            state.get("clip_x0", True),
            legacy_note=note,
        )

    @property
    def device(self) -> torch.device:
        return self.schedule.device

    def eps_model(self, label: int | torch.Tensor | None = None, guidance: float = 1.0):
        """The callable a sampler calls: plain, or steered to `label` by classifier-free
        guidance of weight `guidance`."""
        from nnlab.training.precision import autocast

        model, layout, precision = self.model, self.memory_format, self.precision

        def plain(x, t):
            with autocast(precision, x.device):
                return model(x.contiguous(memory_format=layout), t).float()

        def guided(x, t):
            labels = label if torch.is_tensor(label) else torch.full_like(t, label)
            with autocast(precision, x.device):
                eps = model.guided(x.contiguous(memory_format=layout), t, labels, guidance)
            return eps.float()

        return plain if label is None else guided

    def check(self, sampler: str, steps: int, eta: float = 0.0) -> None:
        if sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler '{sampler}'; choose ddpm or ddim")
        if not 0.0 <= eta <= 1.0:
            raise ConfigError(f"--eta must be between 0 (deterministic) and 1, got {eta}")
        T = self.schedule.T
        if not 1 <= steps <= T:
            raise ConfigError(f"--steps must be between 1 and T = {T}, got {steps}")

    def sample(
        self,
        n: int,
        sampler: str = "ddim",
        steps: int = 50,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        label: int | torch.Tensor | None = None,
        guidance: float = 1.0,
        record: Trajectory | None = None,
    ) -> torch.Tensor:
        """`n` images in [-1, 1] (on the pipeline's device), shape (n, *image_shape); `record`
        keeps the states along the way (see `Trajectory`)."""
        self.check(sampler, steps, eta)
        eps, shape = self.eps_model(label, guidance), (n, *self.image_shape)
        kw = {"clip_x0": self.clip_x0, "record": record}
        if sampler == "ddpm":
            x = sample_ddpm(eps, self.schedule, shape, generator, self.device, **kw)
        else:
            x = sample_ddim(eps, self.schedule, shape, steps, eta, generator, self.device, **kw)
        return x.clamp(-1, 1)


def sample_from_run(
    run_dir: str | Path,
    *,
    sampler: str = "ddim",
    steps: int = 50,
    eta: float = 0.0,
    n: int = 64,
    label: int | None = None,
    guidance: float = 2.0,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[Path, str | None]:
    """Draw `n` samples from a ddpm run's EMA weights and save them as a PNG grid in the run
    directory (`samples/<sampler>-<steps>-n<n>-seed<seed>[-label<k>].png`); return its path
    and the pipeline's legacy note (None for a current file). A class-conditional run without
    `label` conditions each image on a label of its own, drawn uniformly (guidance 1)."""
    from nnlab.io import atomic_write_bytes
    from nnlab.runs.run import resolve_device
    from nnlab.viz import figure_to_png, image_grid

    path = Path(run_dir) / "checkpoints" / "ema.pt"
    if not path.is_file():
        raise ConfigError(
            f"{run_dir} has no checkpoints/ema.pt; pass the directory of a finished ddpm run"
        )
    if sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler '{sampler}'; choose ddpm or ddim")
    if not 0.0 <= guidance <= 50.0:
        raise ConfigError(
            f"--guidance must be between 0 and 50 (1: plain conditional), got {guidance}"
        )
    if not 1 <= n <= 4096:
        raise ConfigError(f"--n must be between 1 and 4096, got {n}")
    pipe = DiffusionPipeline.from_file(path, resolve_device(device))
    classes = pipe.model.cfg.num_classes
    if label is not None and not classes:
        raise ConfigError("--label needs a class-conditional run (--set conditional=true)")
    if label is not None and not 0 <= label < classes:
        raise ConfigError(f"--label must be between 0 and {classes - 1}, got {label}")
    pipe.check(sampler, steps, eta)
    generator = torch.Generator(device=pipe.device).manual_seed(seed)
    if label is None and classes:  # as the run measured it: each image a label of its own
        labels = torch.randint(classes, (n,), generator=torch.Generator().manual_seed(seed))
        x = pipe.sample(n, sampler, steps, eta, generator, labels.to(pipe.device), 1.0)
    else:
        x = pipe.sample(n, sampler, steps, eta, generator, label, guidance)
    steps = pipe.schedule.T if sampler == "ddpm" else steps
    images = ((x[:, 0].cpu().numpy() + 1) / 2).clip(0, 1)
    what = f"{sampler.upper()}, {steps} steps" + (f", η = {eta:g}" if sampler == "ddim" else "")
    what += "" if label is None else f", label {label}, guidance {guidance:g}"
    fig = image_grid(images, ncols=min(8, n), title=what, normalize=None)
    name = f"{sampler}-{steps}" + (f"-eta{eta:g}" if sampler == "ddim" and eta else "")
    name += f"-n{n}-seed{seed}" + ("" if label is None else f"-label{label}")
    folder = Path(run_dir) / "samples"
    folder.mkdir(exist_ok=True)
    return atomic_write_bytes(folder / f"{name}.png", figure_to_png(fig)), pipe.legacy_note

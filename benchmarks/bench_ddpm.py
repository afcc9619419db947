"""ddpm speed, measured in one run on this machine (run it on an idle CPU): training images/s
of the quick preset's U-Net (forward, backward, AdamW and the EMA update, batch 128, 28x28),
with float32 and with bfloat16 autocast, and sampling images/s with DDPM's 1000 steps and
DDIM's 50 (EMA-free: the same network, untrained weights cost the same).

    .venv/bin/python benchmarks/bench_ddpm.py [--steps 10] [--samples 64]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from nnlab.diffusion.samplers import sample_ddim, sample_ddpm
from nnlab.diffusion.schedules import NoiseSchedule
from nnlab.experiments.diffusion.ddpm import PRESETS, Config, unet_config
from nnlab.models.unet import UNet

LAYOUT = torch.channels_last


def training_images_per_second(model: UNet, batch: int, steps: int, bf16: bool) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ema = [p.detach().clone() for p in model.parameters()]
    schedule = NoiseSchedule.linear()
    g = torch.Generator().manual_seed(0)
    x0 = (torch.rand(batch, 1, 28, 28, generator=g) * 2 - 1).contiguous(memory_format=LAYOUT)

    def step() -> None:
        t = torch.randint(schedule.T, (batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        x_t = schedule.add_noise(x0, t, noise).contiguous(memory_format=LAYOUT)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            eps = model(x_t, t)
        loss = F.mse_loss(eps.float(), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, list(model.parameters()), 0.005)

    for _ in range(2):
        step()
    began = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--samples", type=int, default=64, help="images per sampler")
    args = parser.parse_args()
    cfg = Config(**PRESETS["quick"])
    torch.manual_seed(0)
    model = UNet(unet_config(cfg)).to(memory_format=LAYOUT)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; U-Net {cfg.channels}, "
        f"{model.num_parameters():,} parameters; batch {cfg.batch_size}"
    )
    for bf16 in (False, True):
        rate = training_images_per_second(model, cfg.batch_size, args.steps, bf16)
        kind = "bfloat16 autocast" if bf16 else "float32"
        print(f"training, {kind:17}: {rate:7.1f} images/s ({60_000 / rate:.0f} s per epoch)")

    model.eval()
    schedule = NoiseSchedule.linear(cfg.T)
    shape = (args.samples, 1, 28, 28)

    def eps(x, t):
        return model(x.contiguous(memory_format=LAYOUT), t)

    times = {}
    for name in ("ddpm", "ddim50"):
        g = torch.Generator().manual_seed(0)
        began = time.perf_counter()
        if name == "ddpm":
            sample_ddpm(eps, schedule, shape, g, clip_x0=cfg.clip_x0)
        else:
            sample_ddim(eps, schedule, shape, 50, 0.0, g, clip_x0=cfg.clip_x0)
        times[name] = time.perf_counter() - began
        steps = cfg.T if name == "ddpm" else 50
        print(
            f"sampling {name:6} ({steps:4} steps): {args.samples / times[name]:7.2f} images/s "
            f"({times[name]:.1f} s for {args.samples})"
        )
    print(f"DDIM-50 samples {times['ddpm'] / times['ddim50']:.1f}x faster than DDPM-{cfg.T}")


if __name__ == "__main__":
    main()

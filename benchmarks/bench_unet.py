"""Diffusion U-Net training speed on 28x28 images, measured in one run on this machine (run it
on an idle CPU; with other work on the cores the numbers drop and scatter):

* the float32 matmul peak of this CPU (best of square products from 256 to 1024);
* for channels (32, 64, 128) and (16, 32, 64), without and with attention: parameters,
  convolution FLOPs per image (forward 2·MACs, training 3x forward), and training images/s
  at batch 128 (forward, MSE against the noise, backward, AdamW step) in the default memory
  format and in channels_last, with the fraction of the matmul peak that speed uses.

    .venv/bin/python benchmarks/bench_unet.py [--iters 3]

Issue 10's reference: a plain 2.6M-parameter U-Net with 32/64/128 channels trains at
160-186 images/s on this machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from matmul import matmul_peak
from nnlab.models.unet import UNet, UNetConfig

REFERENCE_IMAGES_PER_SECOND = (160, 186)
BATCH = 128


def conv_macs(model: UNet, size: int = 28) -> int:
    """Multiply-accumulates of every convolution in one forward of one image."""
    total = 0

    def count(conv: torch.nn.Conv2d, args, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = conv.kernel_size
        total += out[0].numel() * conv.in_channels // conv.groups * kh * kw

    hooks = [m.register_forward_hook(count) for m in model.modules() if type(m) is torch.nn.Conv2d]
    with torch.no_grad():
        model(torch.zeros(1, model.cfg.in_channels, size, size), torch.zeros(1))
    for hook in hooks:
        hook.remove()
    return total


def images_per_second(cfg: UNetConfig, channels_last: bool, iters: int) -> float:
    """Best of `iters` timed training steps (after two warm-up steps), in images/s."""
    torch.manual_seed(0)
    model = UNet(cfg)
    x = torch.randn(BATCH, cfg.in_channels, 28, 28)
    t = torch.randint(0, 1000, (BATCH,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    noise = torch.randn_like(x)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        loss = (model(x, t) - noise).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    best = float("inf")
    for _ in range(iters):
        began = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - began)
    return BATCH / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3, help="timed training steps per case")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, 28x28")
    peak = matmul_peak((256, 512, 1024), 0.5)
    print(f"float32 matmul peak: {peak:.1f} GFLOP/s")
    lo, hi = REFERENCE_IMAGES_PER_SECOND
    print(
        f"\n{'channels':14} {'attention':9} {'parameters':>10} {'GFLOP/img':>9} "
        f"{'img/s':>7} {'img/s CL':>8} {'peak':>6}  vs reference ({lo}-{hi} img/s)"
    )
    for channels in ((32, 64, 128), (16, 32, 64)):
        for attention in (False, True):
            cfg = UNetConfig(channels=channels, attention=attention)
            model = UNet(cfg)
            train_gflop = 3 * 2 * conv_macs(model) / 1e9
            default = images_per_second(cfg, False, args.iters)
            last = images_per_second(cfg, True, args.iters)
            best = max(default, last)
            print(
                f"{str(channels):14} {str(attention):9} {model.num_parameters():>10,} "
                f"{train_gflop:9.3f} {default:7.1f} {last:8.1f} "
                f"{best * train_gflop / peak:6.1%}  {best / hi:.2f}x-{best / lo:.2f}x"
            )


if __name__ == "__main__":
    main()

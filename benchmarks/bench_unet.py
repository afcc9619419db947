"""Diffusion U-Net training speed on 28x28 images against a plain baseline, both measured in
this run on this machine (run it on an idle CPU; with other work on the cores the numbers drop
and scatter, which the interleaving spreads over both cases alike):

* the matmul peak of this CPU in the precision nnlab's way trains in (best of square products
  from 256 to 1024): `--precision auto` (the default) resolves as `ddpm` does, bf16 on a CPU
  whose bfloat16 units measurably pay (`nnlab precision`);
* for channels (32, 64, 128) and (16, 32, 64), without and with attention: parameters,
  convolution FLOPs per image (forward 2·MACs, training 3x forward), and training images/s
  at batch 128 (forward, MSE against the noise, backward, AdamW step) the way `ddpm` trains
  (channels_last memory format, torch's default multi-tensor AdamW, the resolved precision's
  autocast) and the plain way (float32, the default NCHW format, AdamW one parameter at a
  time), interleaved over `--rounds` rounds of
  `--iters` steps: medians, the ratio taken round by round (median and range) and the
  fraction of the matmul peak (of nnlab's precision) nnlab's median uses.

    .venv/bin/python benchmarks/bench_unet.py [--rounds 3 --iters 2 --precision auto]

Issue 10's reference, not measured here and not divided by: a plain 2.6M-parameter U-Net with
32/64/128 channels trained at 160-186 images/s on that day's machine.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from functools import partial

import torch

from matmul import matmul_peak
from nnlab.models.unet import UNet, UNetConfig
from nnlab.training.precision import autocast, resolve
from sidebyside import interleaved, ratios, spread

#: a reference from another day (issue 10), printed as such: never divided by
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


def trainer(cfg: UNetConfig, plain: bool, precision: str = "fp32") -> Callable[[int], int]:
    """A function running n training steps at batch BATCH (returning the images trained on):
    `ddpm`'s way (channels_last, multi-tensor AdamW, `precision`'s autocast) or the plain way
    (float32, NCHW, AdamW one parameter at a time)."""
    torch.manual_seed(0)
    model = UNet(cfg)
    x = torch.randn(BATCH, cfg.in_channels, 28, 28)
    t = torch.randint(0, 1000, (BATCH,))
    if not plain:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    noise = torch.randn_like(x)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=False if plain else None)

    cast = autocast("fp32" if plain else precision, x.device)

    def steps(n: int) -> int:
        for _ in range(n):
            with cast:
                eps = model(x, t)
            loss = (eps.float() - noise).pow(2).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return n * BATCH

    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--iters", type=int, default=2, help="steps per case per round (2)")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"], help="nnlab's (auto)"
    )
    args = parser.parse_args()
    precision = resolve(args.precision, torch.device("cpu"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, 28x28")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    peak = matmul_peak((256, 512, 1024), 0.5, dtype)
    print(f"{precision} matmul peak: {peak:.1f} GFLOP/s")
    print(
        f"{args.rounds} rounds of {args.iters} steps per case, interleaved; "
        f"nnlab: {precision}, channels_last, multi-tensor AdamW; "
        "plain: fp32, NCHW, per-parameter AdamW"
    )
    print(
        f"\n{'channels':14} {'attention':9} {'parameters':>10} {'GFLOP/img':>9} "
        f"{'nnlab img/s':>11} {'plain img/s':>11} {'nnlab/plain (range)':>20} {'peak':>6}"
    )
    for channels in ((32, 64, 128), (16, 32, 64)):
        for attention in (False, True):
            cfg = UNetConfig(channels=channels, attention=attention)
            model = UNet(cfg)
            train_gflop = 3 * 2 * conv_macs(model) / 1e9
            nnlab, plain = trainer(cfg, False, precision), trainer(cfg, plain=True)
            nnlab(1), plain(1)  # warm-up
            rates = interleaved(
                {"nnlab": partial(nnlab, args.iters), "plain": partial(plain, args.iters)},
                args.rounds,
            )
            median = statistics.median(rates["nnlab"])
            print(
                f"{str(channels):14} {str(attention):9} {model.num_parameters():>10,} "
                f"{train_gflop:9.3f} {median:11.1f} {statistics.median(rates['plain']):11.1f} "
                f"{spread(ratios(rates['nnlab'], rates['plain']), '.2f'):>20} "
                f"{median * train_gflop / peak:6.1%}"
            )
    lo, hi = REFERENCE_IMAGES_PER_SECOND
    print(
        f"\nreference, not measured here: issue 10's plain U-Net (32, 64, 128) at {lo}-{hi} "
        "img/s on that day's machine"
    )


if __name__ == "__main__":
    main()

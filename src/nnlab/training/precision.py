"""Mixed precision where the hardware has it: the `precision` setting of the torch experiments.

`resolve(setting, device)` turns "auto", "fp32" or "bf16" into the precision a run trains in;
`autocast(precision, device)` is the context the training step runs under:

    precision = resolve("auto", torch.device("cpu"))     # "bf16" or "fp32"
    with autocast(precision, device):
        logits = model(x)

"auto" is bfloat16 on a CUDA device that supports it, and on a CPU whose bfloat16 matmul
measurably runs faster than float32: the CPU must report bfloat16 instructions (the
`avx512_bf16` or `amx_bf16` flags of /proc/cpuinfo, or `bf16` on Arm) and a timed probe must
find bfloat16 products at least `SPEEDUP` times as fast at every size of `DECISION_SIZES`. The
probe runs once per machine: its answer is kept in `$XDG_CACHE_HOME/nnlab/precision.json`
(default `~/.cache/nnlab/`), keyed by the CPU model and the torch version; a damaged file is
probed again and rewritten. Everywhere else "auto" is float32.

Under bfloat16 autocast the matrix products and convolutions run in bfloat16 while the
parameters, the optimizer state, the residual stream of the GPT and the losses stay float32
(torch computes `cross_entropy` and `mse_loss` in float32 under autocast; measured in
benchmarks/precision_parts.py, see SETTINGS.md).

`probe()` measures matmul GFLOP/s in both precisions at the sizes nnlab's models use
(`nnlab precision` prints it).
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnlab.errors import UserError

if TYPE_CHECKING:
    import torch

SETTINGS = ("auto", "fp32", "bf16")
DECISION_SIZES = (512, 1024)  # square products the CPU decision is timed on
SPEEDUP = 1.2  # bf16 must be this many times as fast as fp32 at each decision size
CACHE_NAME = "precision.json"

#: (what, rows, inner, columns) of the products `probe` times: the decision sizes and the
#: shapes nnlab's models multiply (rows = batch x positions of one training step)
PROBE_SHAPES = (
    ("square 512", 512, 512, 512),
    ("square 1024", 1024, 1024, 1024),
    ("char-gpt quick MLP (16x64 tokens, 128 -> 512)", 1024, 128, 512),
    ("char-gpt full MLP (64x256 tokens, 384 -> 1536)", 16384, 384, 1536),
    ("mlp-classifier layer (batch 128, 784 -> 512)", 128, 784, 512),
)
#: (what, batch, in channels, out channels, image size, kernel) of the convolutions timed
PROBE_CONVS = (("cnn-mnist conv 2 (batch 128, 40 -> 16, 12x12, 3x3)", 128, 40, 16, 12, 3),)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else what `platform` says."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def cpu_has_bf16() -> bool:
    """Does the CPU say it has bfloat16 instructions (x86 AVX512-BF16 or AMX, Arm BF16)?"""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def matmul_gflops(
    rows: int, inner: int, columns: int, dtype: torch.dtype, reps: int = 3, seconds: float = 0.05
) -> float:
    """Best of `reps` timings (each ~`seconds` long) of a (rows x inner) @ (inner x columns)
    product in `dtype` on the CPU, in GFLOP/s."""
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(rows, inner, generator=generator).to(dtype)
    b = torch.randn(inner, columns, generator=generator).to(dtype)
    a @ b  # warm-up: the kernel's first call chooses and allocates
    best = 0.0
    for _ in range(reps):
        count, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds or count == 0:
            a @ b
            count += 1
        best = max(best, 2 * rows * inner * columns * count / elapsed / 1e9)
    return best


def conv_gflops(
    batch: int, cin: int, cout: int, size: int, kernel: int, dtype: torch.dtype, reps: int = 3
) -> float:
    """Best of `reps` timings of a forward convolution (padding 0, channels_last) in `dtype`
    on the CPU, in GFLOP/s (2 per multiply-add)."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, cin, size, size, generator=generator).to(dtype)
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(cout, cin, kernel, kernel, generator=generator).to(dtype)
    out = size - kernel + 1
    flop = 2 * batch * cout * out * out * cin * kernel * kernel
    F.conv2d(x, w)
    best = 0.0
    for _ in range(reps):
        count, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < 0.05 or count == 0:
            F.conv2d(x, w)
            count += 1
        best = max(best, flop * count / elapsed / 1e9)
    return best


def probe() -> list[dict[str, Any]]:
    """Measured CPU GFLOP/s in float32 and bfloat16 at the sizes nnlab uses: one record per
    shape with `what`, `shape`, `fp32`, `bf16` and their ratio `bf16/fp32`."""
    import torch

    records = []
    for what, *shape in PROBE_SHAPES:
        fp32, bf16 = (matmul_gflops(*shape, dtype) for dtype in (torch.float32, torch.bfloat16))
        records.append(
            {"what": what, "shape": "x".join(map(str, shape)), "fp32": fp32, "bf16": bf16}
        )
    for what, *shape in PROBE_CONVS:
        fp32, bf16 = (conv_gflops(*shape, dtype) for dtype in (torch.float32, torch.bfloat16))
        records.append(
            {"what": what, "shape": "x".join(map(str, shape)), "fp32": fp32, "bf16": bf16}
        )
    for record in records:
        record["bf16/fp32"] = record["bf16"] / record["fp32"]
    return records


def machine_key() -> str:
    import torch

    return f"{cpu_model()} | torch {torch.__version__}"


def cache_path() -> Path:
    from nnlab.data.registry import cache_dir

    return cache_dir() / CACHE_NAME


def cpu_decision() -> dict[str, Any]:
    """Whether bfloat16 pays on this CPU: {"bf16": bool, "reason": str, "gflops": {...}}, read
    from the cache when this machine (CPU model, torch version) was probed before, else
    measured (flags, then the timed probe at `DECISION_SIZES`) and cached."""
    import torch

    key, path = machine_key(), cache_path()
    cached: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(path.read_text())
        if isinstance(loaded, dict):
            cached = loaded
    entry = cached.get(key)
    if isinstance(entry, dict) and isinstance(entry.get("bf16"), bool):
        return entry
    if not cpu_has_bf16():
        entry = {"bf16": False, "reason": "the CPU reports no bfloat16 instructions", "gflops": {}}
    else:
        gflops = {
            str(n): {
                "fp32": matmul_gflops(n, n, n, torch.float32),
                "bf16": matmul_gflops(n, n, n, torch.bfloat16),
            }
            for n in DECISION_SIZES
        }
        faster = all(g["bf16"] >= SPEEDUP * g["fp32"] for g in gflops.values())
        ratios = ", ".join(f"{n}²: {g['bf16'] / g['fp32']:.2f}x" for n, g in gflops.items())
        entry = {
            "bf16": faster,
            "reason": f"bfloat16/float32 matmul speed {ratios} (needs {SPEEDUP}x)",
            "gflops": gflops,
        }
    cached[key] = entry
    with contextlib.suppress(OSError):  # a read-only cache only costs a probe next time
        from nnlab.io import atomic_write_json

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, cached)
    return entry


def resolve(setting: str, device: torch.device) -> str:
    """The precision a run on `device` trains in, "fp32" or "bf16", for the `precision`
    setting "auto", "fp32" or "bf16" (UserError for bf16 where the device has none)."""
    import torch

    if setting not in SETTINGS:
        raise UserError(
            f"setting 'precision' must be one of {', '.join(SETTINGS)}; got {setting!r}"
        )
    if setting == "fp32":
        return "fp32"
    if device.type == "cuda":
        supported = torch.cuda.is_bf16_supported()
    elif device.type == "cpu":
        supported = cpu_has_bf16() if setting == "bf16" else cpu_decision()["bf16"]
    else:
        supported = False
    if setting == "bf16" and not supported:
        raise UserError(
            f"precision=bf16 was asked for but {device.type} here has no bfloat16 support "
            "(for a CPU: no avx512_bf16/amx_bf16/bf16 flag); use --set precision=fp32 or auto"
        )
    return "bf16" if supported else "fp32"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context a training step of `precision` runs under: bfloat16 autocast on `device`
    for "bf16", nothing for "fp32"."""
    import torch

    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")


def describe(measure: bool = True) -> list[str]:
    """What `nnlab precision` prints: the CPU, what `auto` chooses here and why, where that is
    cached, and (with `measure`) the probe's GFLOP/s in both precisions."""
    import torch

    from nnlab.report.tables import text_table

    device = torch.device("cpu")
    lines = [
        f"CPU: {cpu_model()}; torch {torch.__version__}, {torch.get_num_threads()} threads",
        "bfloat16 instructions (avx512_bf16, amx_bf16 or bf16 flags): "
        + ("yes" if cpu_has_bf16() else "no"),
        f"precision=auto on this CPU: {resolve('auto', device)} ({cpu_decision()['reason']})",
        f"cached in {cache_path()}",
    ]
    if torch.cuda.is_available():
        gpu = resolve("auto", torch.device("cuda"))
        lines.append(f"precision=auto on {torch.cuda.get_device_name()}: {gpu}")
    if measure:
        lines.append("\nmeasured now, best of 3 (GFLOP/s; a busy machine measures less):")
        rows = [
            (
                r["what"],
                r["shape"],
                f"{r['fp32']:.1f}",
                f"{r['bf16']:.1f}",
                f"{r['bf16/fp32']:.2f}x",
            )
            for r in probe()
        ]
        lines += text_table(["product", "shape", "float32", "bfloat16", "ratio"], rows)
    return lines

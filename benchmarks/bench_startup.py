"""Start-up time of the light commands: `nnlab --help`, `list`, `describe EXP`, `data list`.

Each command runs as a fresh process (as a user types it), `--repeat` times; prints the
median and best wall time, the goal (0.5 s on an idle machine), and the bare interpreter's
start-up for comparison, plus which heavy libraries each command imported.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL = 0.5
HEAVY = ("torch", "matplotlib", "scipy", "numpy", "PIL")
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "nnlab --help": ["-m", "nnlab", "--help"],
    "nnlab list": ["-m", "nnlab", "list"],
    "nnlab describe mlp-classifier": ["-m", "nnlab", "describe", "mlp-classifier"],
    "nnlab data list": ["-m", "nnlab", "data", "list"],
}
PROBE = (
    "import sys, runpy; sys.argv = ['nnlab', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('nnlab', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
)


def wall(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - started


def imported(args: list[str]) -> str:
    if args[0] != "-m":
        return "-"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *args[2:]], capture_output=True, text=True, check=True
    )
    return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for argv in COMMANDS.values():
        wall(argv)  # warm the file cache and the font-scan cache
    print(f"{'command':32} {'median s':>9} {'best s':>7}  goal   heavy imports")
    for name, argv in COMMANDS.items():
        times = [wall(argv) for _ in range(args.repeat)]
        median = statistics.median(times)
        verdict = "" if name.startswith("python") else ("ok" if median <= GOAL else "SLOW")
        print(f"{name:32} {median:9.3f} {min(times):7.3f}  {verdict:5}  {imported(argv)}")


if __name__ == "__main__":
    main()

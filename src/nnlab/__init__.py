"""nnlab: a deep-learning lab, from backpropagation by hand to GPT and diffusion.

From Python or Jupyter (`nnlab.api`):

    import nnlab
    nnlab.experiments()                          # {chapter title: [experiment names]}
    r = nnlab.run("xor", preset="smoke", seed=0)  # settings as keywords: epochs=2, lr=0.1
    r.summary, r.config, r.metrics, r.figures, r.dir
    nnlab.load(r.dir)                            # a finished run

Importing nnlab loads neither PyTorch nor matplotlib; `run` loads what the experiment needs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["experiments", "load", "run"]

_API = ("run", "load", "Result", "Figure")


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module("nnlab.api"), name)
    if name == "experiments":  # the package, callable (see nnlab.experiments.by_chapter)
        return importlib.import_module("nnlab.experiments")
    raise AttributeError(f"module 'nnlab' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API, "experiments"])

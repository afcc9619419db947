"""Run directories: metrics, figures, checkpoints, resume, determinism (see README.md).

`nnlab.runs.run` holds the `Run` object and the runner.
This package imports nothing eagerly, so light commands need not load PyTorch.
"""

"""Run directories: metrics, figures, checkpoints, resume, determinism (see README.md).

`run` holds the `Run` object an experiment writes through; `runner` creates, locks, resumes
and closes run directories (with `run`, the one writer); `read` reads a run directory back
(the one reader: the report, the CLI and `nnlab.load` use it); `tensorboard` writes a run's
files as TensorBoard events. This package imports nothing eagerly, so light commands need not
load PyTorch.
"""

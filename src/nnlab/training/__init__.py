"""The training library for the PyTorch experiments (see DISTRIBUTED.md for several processes).

- `tensors`: data made into tensors, batches, seeded splits, label noise.
- `optim`: optimizers and schedules by name; a checkpoint's parts saved and restored.
- `classifier`: the batch loop and the classifier loops (`fit_classifier`, `fit_classifiers`,
  `fit_variants`, `fit_validated`); `autoencoder`: the autoencoder loops.
- `settings`: the training settings every classifier recipe shares (light).
- `lm`: the language-model loop (GPT and LSTM); `hpo`: hyper-parameter search with Optuna.
- `pool`: worker processes; `distributed`: data parallelism under torchrun; `threads`: thread
  limits. Importing the package loads nothing (numpy experiments use `threads` without torch).
"""

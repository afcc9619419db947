"""Library training pieces shared by the PyTorch experiments (nnlab.training, nnlab.config)."""

from __future__ import annotations

import pytest
import torch

from nnlab import config as choices
from nnlab.models import mlp
from nnlab.training import classifier, hpo, optim, tensors


def test_choices_name_what_the_library_implements():
    assert optim.OPTIMIZERS == choices.OPTIMIZERS
    assert optim.SCHEDULES == choices.SCHEDULES
    assert hpo.SAMPLERS == choices.SAMPLERS
    assert set(mlp.ACTIVATIONS) == set(choices.ACTIVATIONS)
    params = [torch.nn.Parameter(torch.zeros(2))]
    for name in choices.OPTIMIZERS:
        optimizer = optim.make_optimizer(name, params, 0.1)
        assert isinstance(optimizer, torch.optim.Optimizer)
    for name in choices.SCHEDULES:
        optim.make_schedule(name, optimizer, total_steps=10)
    with pytest.raises(ValueError, match="choose one of sgd"):
        optim.make_optimizer("lbfgs", params, 0.1)


def _data(n: int = 96, d: int = 6, classes: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return x, y % classes


def _models(dropout: float = 0.3) -> dict[str, torch.nn.Module]:
    torch.manual_seed(1)
    return {"shallow": mlp.MLP(6, (8,), 3), "deep": mlp.MLP(6, (8, 8), 3, dropout=dropout)}


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return all(torch.equal(p, q) for p, q in pairs)


def _run(directory, seed: int = 0):
    from nnlab.runs.run import Run

    return Run(directory, seed=seed, device=torch.device("cpu"), quiet=True)


def _fit_several(run, models, epochs: int = 4) -> None:
    x, y = _data()
    classifier.fit_classifiers(
        run, models, (x, y), _data(seed=1), optimizer="adam", lr=1e-2, schedule="onecycle",
        epochs=epochs, batch_size=16,
    )  # fmt: skip


def test_fit_classifiers_resumed_run_matches_an_uninterrupted_one(tmp_path, monkeypatch):
    from nnlab.runs.run import Run

    ref_models = _models()
    _fit_several(_run(tmp_path / "ref"), ref_models)

    original = Run.save_checkpoint

    def save_then_stop(self, state):
        original(self, state)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Run, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        _fit_several(_run(tmp_path / "cut"), _models())
    monkeypatch.setattr(Run, "save_checkpoint", original)
    torch.manual_seed(123)  # the global RNG (dropout) must come back from the checkpoint
    resumed = _models()
    _fit_several(_run(tmp_path / "cut"), resumed)

    ref_lines = (tmp_path / "ref" / "metrics.jsonl").read_text()
    assert (tmp_path / "cut" / "metrics.jsonl").read_text() == ref_lines
    assert len(ref_lines.splitlines()) == 4
    for name, model in resumed.items():
        for key, value in model.state_dict().items():
            assert torch.equal(value, ref_models[name].state_dict()[key]), (name, key)


def test_fit_classifiers_trains_every_model_on_the_same_batches(tmp_path):
    torch.manual_seed(0)
    a = mlp.MLP(6, (8,), 3)
    b = mlp.MLP(6, (8,), 3)
    b.load_state_dict(a.state_dict())
    run = _run(tmp_path)
    _fit_several(run, {"a": a, "b": b}, epochs=3)
    for line in run.history():
        assert line["a_train_loss"] == line["b_train_loss"]
        assert line["a_test_accuracy"] == line["b_test_accuracy"]
    assert run.history()[-1]["a_train_loss"] < 0.9 * run.history()[0]["a_train_loss"]  # it learns


def _fit_augmented(run, model) -> None:
    noise = torch.Generator().manual_seed(5)
    classifier.fit_classifier(
        run, model, _data(), _data(seed=1), optimizer="sgd", lr=0.1, epochs=3, batch_size=32,
        transform=lambda x: x + 0.1 * torch.randn(x.shape, generator=noise),
        generators={"noise": noise}, eval_name="val",
    )  # fmt: skip


def test_fit_classifier_checkpoints_the_generators_of_its_transform(tmp_path, monkeypatch):
    from nnlab.runs.run import Run

    torch.manual_seed(0)
    ref = mlp.MLP(6, (8,), 3)
    _fit_augmented(_run(tmp_path / "ref"), ref)
    original = Run.save_checkpoint

    def save_then_stop(self, state):
        original(self, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(Run, "save_checkpoint", save_then_stop)
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        _fit_augmented(_run(tmp_path / "cut"), mlp.MLP(6, (8,), 3))
    monkeypatch.setattr(Run, "save_checkpoint", original)
    torch.manual_seed(0)
    resumed = mlp.MLP(6, (8,), 3)
    _fit_augmented(_run(tmp_path / "cut"), resumed)
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text()
    assert lines == (tmp_path / "ref" / "metrics.jsonl").read_text()
    assert '"val_accuracy"' in lines and '"test_accuracy"' not in lines
    assert _same_weights(resumed, ref)


def test_train_epoch_adds_the_penalty_and_reports_the_plain_cross_entropy():
    x, y = _data(n=40)
    torch.manual_seed(0)
    model = mlp.MLP(6, (5,), 3)
    by_hand = mlp.MLP(6, (5,), 3)
    by_hand.load_state_dict(model.state_dict())

    def l2(m):
        return 0.05 * sum(p.square().sum() for p in m.parameters() if p.dim() > 1)

    steps = []
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    order = list(tensors.batches(40, 16, torch.Generator().manual_seed(3)))
    loss, accuracy = classifier.train_epoch(
        model, opt, None, x, y, order, penalty=l2, on_step=steps.append
    )

    opt_hand = torch.optim.SGD(by_hand.parameters(), lr=0.1)
    cross_entropy = 0.0
    for idx in order:
        ce = torch.nn.functional.cross_entropy(by_hand(x[idx]), y[idx])
        opt_hand.zero_grad()
        (ce + l2(by_hand)).backward()
        opt_hand.step()
        cross_entropy += float(ce.detach()) * len(idx)
    assert _same_weights(model, by_hand)
    assert len(steps) == 3 and float(steps[0]) > 0
    assert loss == pytest.approx(cross_entropy / 40, rel=1e-6)
    assert 0.0 <= accuracy <= 1.0
    assert tensors.steps_per_epoch(40, 16) == 3 and tensors.steps_per_epoch(48, 16) == 3


def test_split_indices_is_seeded_disjoint_and_refuses_too_much():
    train, val = tensors.split_indices(1000, 100, 300, seed=3)
    again = tensors.split_indices(1000, 100, 300, seed=3)
    other = tensors.split_indices(1000, 100, 300, seed=4)
    assert len(train) == 100 and len(val) == 300 and not set(train) & set(val)
    assert set(train) | set(val) <= set(range(1000))
    assert (train == again[0]).all() and (val == again[1]).all()
    assert not (train == other[0]).all()
    from nnlab.errors import ConfigError

    with pytest.raises(ConfigError, match="exceeds the 1000 training examples"):
        tensors.split_indices(1000, 800, 300, seed=0)


def test_corrupt_labels_changes_the_given_fraction_to_other_classes():
    import numpy as np

    y = np.arange(200) % 4
    noisy = tensors.corrupt_labels(y, 0.25, 4, seed=0)
    assert (noisy != y).sum() == 50 and set(noisy) <= {0, 1, 2, 3}
    assert (tensors.corrupt_labels(y, 0.25, 4, seed=0) == noisy).all()
    assert (y == np.arange(200) % 4).all()  # the input is not changed


def test_standardise_uses_the_training_statistics_for_every_split():
    import numpy as np

    from nnlab.data import ArraySplits

    rng = np.random.default_rng(0)
    data = ArraySplits(
        x_train=rng.uniform(0, 1, (20, 5, 4)).astype(np.float32),
        y_train=np.arange(20) % 3,
        x_test=np.full((6, 5, 4), 0.5, dtype=np.float32),
        y_test=np.arange(6) % 3,
        class_names=["a", "b", "c"],
        name="random",
        x_val=np.zeros((4, 5, 4), dtype=np.float32),
        y_val=np.zeros(4, dtype=np.int64),
    )
    t = tensors.image_tensors(data, 10, torch.device("cpu"), memory_format=torch.channels_last)
    assert list(t) == ["train", "val", "test"]
    x_train, y_train = t["train"]
    assert x_train.shape == (10, 1, 5, 4) and y_train.dtype == torch.long
    assert x_train.is_contiguous(memory_format=torch.channels_last)
    assert float(x_train.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(x_train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-4)
    mean, std = data.x_train[:10].mean(), data.x_train[:10].std()
    assert float(t["val"][0][0, 0, 0, 0]) == pytest.approx(-mean / std, rel=1e-5)
    x_train, _, x_test, _ = tensors.flat_tensors(data, 10, torch.device("cpu"))
    assert x_train.shape == (10, 20) and x_test.shape == (6, 20)
    assert torch.equal(x_train, t["train"][0].reshape(10, -1))


def test_fit_variants_resumes_at_the_first_variant_not_done(tmp_path, monkeypatch):
    from nnlab.runs.run import Run

    calls = []

    def fit(name, bar):
        calls.append(name)
        bar.update(2)
        return {"name": name, "weights": torch.full((2,), float(len(calls)))}

    original = Run.save_checkpoint

    def save_then_stop(self, state):
        original(self, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(Run, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        classifier.fit_variants(_run(tmp_path), ["a", "b", "c"], fit, steps=2)
    monkeypatch.setattr(Run, "save_checkpoint", original)
    results, seconds = classifier.fit_variants(_run(tmp_path), ["a", "b", "c"], fit, steps=2)
    assert calls == ["a", "b", "c"]  # "a" was not trained again
    assert [r["name"] for r in results] == ["a", "b", "c"] and list(seconds) == ["a", "b", "c"]
    assert torch.equal(results[0]["weights"], torch.ones(2))  # restored from the checkpoint


def test_fit_validated_stops_early_and_restores_the_best_epoch():
    x, y = _data(n=64)
    x_val = torch.randn(64, 6, generator=torch.Generator().manual_seed(9))
    y_val = torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(9))  # noise
    torch.manual_seed(0)
    model = mlp.MLP(6, (32,), 3)
    states, logged = {}, []

    def on_epoch(epoch, metrics):
        logged.append(metrics)
        states[epoch] = {k: v.clone() for k, v in model.state_dict().items()}

    best, trained = classifier.fit_validated(
        model, torch.optim.Adam(model.parameters(), lr=0.05), (x, y), (x_val, y_val),
        epochs=60, batch_size=16, generator=torch.Generator().manual_seed(0), patience=3,
        on_epoch=on_epoch,
    )  # fmt: skip
    assert trained < 60 and trained - best == 3 and len(logged) == trained
    val_losses = [m["val_loss"] for m in logged]
    assert val_losses[best - 1] == min(val_losses)
    assert list(logged[0]) == ["train_loss", "val_loss", "train_accuracy", "val_accuracy"]
    for key, value in model.state_dict().items():
        assert torch.equal(value, states[best][key]), key

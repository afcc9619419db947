"""One learner's playground: data, a `nnlab.scratch` network, its optimizer and what it has
learned so far, and the frames the page draws.

A frame is one dict, sent as JSON: the pictures (`render.pictures`: the output heat-map and one
thumbnail per input and neuron), the weights, the newest loss/accuracy records and the test
confusion matrix. `Session.warp` shows how one hidden layer bends the plane
(`render.warp_images`). Nothing here knows about HTTP; `nnlab.playground.app` wraps it.
"""

from __future__ import annotations

import csv
import io
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnlab.playground.datasets import EXTENT, generate, split
from nnlab.playground.render import (  # noqa: F401 (the names importable from here too)
    GRID,
    GRID_POINTS,
    THUMB_STRIDE,
    WARP_LINES,
    WARP_SAMPLES,
    _coordinates,
    features,
    forward,
    pictures,
    python_snippet,
    warp_images,
)
from nnlab.playground.settings import MAX_POINTS, MAX_VALUE, Point, PointSet, Settings
from nnlab.scratch import (
    SGD,
    Adam,
    Linear,
    Momentum,
    Sequential,
    minibatches,
    mlp,
    softmax_cross_entropy,
    squared_error,
)

PLAY_LIMIT_SECONDS = 600.0  # continuous play pauses after this; pressing play continues
HISTORY_LIMIT = 4000  # records kept per run (older ones are thinned to every second)

DATA_KEYS = ("dataset", "classes", "n_points", "noise", "train_share", "seed")
NET_KEYS = ("inputs", "hidden", "activations", "loss", "init", "dropout")


class PlaygroundError(ValueError):
    """A request that is well-formed but cannot apply to this session; ``field`` names why."""

    def __init__(self, field: str, message: str, where: str = "body") -> None:
        super().__init__(message)
        self.field, self.where = field, where


CSV_HEADERS = {("x1", "x2", "label"): "label", ("x1", "x2", "value"): "value"}


def _csv_rows(text: str):
    """(line number, fields) of each row, lines ending in LF, CRLF or CR; a line the csv
    module cannot read (a field over its 131,072 characters) is a PlaygroundError."""
    reader = csv.reader(io.StringIO(text, newline=None))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise PlaygroundError("csv", f"line {reader.line_num}: {exc}") from None


def _finite(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(x) else None


def output_head(settings: Settings) -> tuple[int, str]:
    """(number of outputs, output activation) of the network for these settings."""
    if settings.loss == "cross_entropy":
        return settings.n_classes, "linear"
    if settings.is_regression:
        return 1, "linear"
    return 1, "tanh"  # binary squared error on targets -1 / +1, as TensorFlow Playground


def build_network(settings: Settings, rng: np.random.Generator) -> Sequential:
    n_out, out_act = output_head(settings)
    sizes = [len(settings.inputs), *settings.hidden, n_out]
    return mlp(
        sizes,
        list(settings.activations),
        output_activation=out_act,
        init=settings.init,
        rng=rng,
        dropout=settings.dropout,
    )


@dataclass
class Session:
    """Training state of one browser tab. Every public method takes ``self.lock``."""

    settings: Settings = field(default_factory=Settings)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.created = self.last_seen = time.monotonic()
        self.playing = False
        self.message = ""
        self.version = 0  # bumped on every change a paused page must be shown
        self.data_version = 0
        self.run = 0  # bumped on every reset: the page clears its curves
        self.thinned = 0  # bumped when old history records are dropped
        self.streams = 0
        self._play_started = 0.0
        self._make_data()
        self._reset_network()

    # ------------------------------------------------------------------ state changes
    def _make_data(self) -> None:
        s = self.settings
        if s.dataset == "custom":  # a session made from a link: the page sends the points next
            self.X = np.zeros((0, 2))
            self.y = np.zeros(0, dtype=np.float64 if s.is_regression else np.int64)
        else:
            self.X, self.y = generate(s.dataset, s.n_points, s.noise, s.seed, s.classes)
        self.train = split(len(self.X), s.train_share, s.seed)
        self.data_version += 1

    @property
    def has_values(self) -> bool:
        """Whether the points carry real values (regression) rather than class labels."""
        return self.y.dtype.kind == "f"

    def _reset_network(self) -> None:
        s = self.settings
        self.rng = np.random.default_rng(s.seed)
        self.model = build_network(s, self.rng)
        self.linears = [layer for layer in self.model.layers if isinstance(layer, Linear)]
        self._make_optimizer()
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.run += 1
        self._evaluate()

    def _make_optimizer(self) -> None:
        s = self.settings
        kind = {"sgd": SGD, "momentum": Momentum, "adam": Adam}[s.optimizer]
        self.opt = kind(self.model, lr=s.learning_rate)
        self._set_hyper()

    def _set_hyper(self) -> None:
        s = self.settings
        self.opt.lr = s.learning_rate
        self.opt.weight_decay = s.reg_rate if s.regularization == "l2" else 0.0
        self.opt.l1 = s.reg_rate if s.regularization == "l1" else 0.0

    def _touch(self) -> None:
        self.version += 1
        self.last_seen = time.monotonic()

    def apply(self, new: Settings) -> None:
        """Use new settings: new data if a data setting changed, a new network if the data or
        the architecture changed, otherwise the same network trains on with new knobs."""
        with self.lock:
            old = self.settings
            changed = {k for k in Settings.model_fields if getattr(old, k) != getattr(new, k)}
            if new.dataset == "custom" and self.n_labels() > new.classes:
                raise PlaygroundError(
                    "classes", f"the points have {self.n_labels()} classes; classes must cover them"
                )
            if new.dataset == "custom" and not len(self.y):  # no points: either kind will do
                self.y = self.y.astype(np.float64 if new.is_regression else np.int64)
            if new.dataset == "custom" and new.is_regression != self.has_values:
                kind = (
                    "real values: custom_target must be value"
                    if self.has_values
                    else "class labels: custom_target must be label"
                )
                raise PlaygroundError("custom_target", f"the points carry {kind}")
            self.settings = new
            regenerate = changed & set(DATA_KEYS) and new.dataset != "custom"
            if regenerate:
                self._make_data()
            if new.dataset == "custom" and changed & {"train_share", "seed"}:
                self.train = split(len(self.X), new.train_share, new.seed)
                self.data_version += 1
            if regenerate or changed & set(NET_KEYS) or "classes" in changed:
                self._reset_network()
            elif "optimizer" in changed:
                self._make_optimizer()
            else:
                self._set_hyper()
            self._evaluate()
            self._touch()

    def n_labels(self) -> int:
        if self.has_values or len(self.y) == 0:
            return 0
        return int(self.y.max()) + 1

    def control(self, action: str) -> None:
        with self.lock:
            if action == "play":
                self.playing, self.message = True, ""
                self._play_started = time.monotonic()
            elif action == "pause":
                self.playing = False
            elif action == "step":
                self.playing = False
                self._train_epoch()
            elif action == "reset":
                self.playing, self.message = False, ""
                self._reset_network()
            elif action == "regenerate":
                if self.settings.dataset == "custom":
                    raise PlaygroundError("action", "custom points cannot be regenerated")
                self.settings = self.settings.model_copy(update={"seed": self.settings.seed + 1})
                self._make_data()
                self._reset_network()
            elif action == "clear":
                self._to_custom(np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
            self._touch()

    def _to_custom(
        self,
        X: np.ndarray,
        y: np.ndarray,
        train: np.ndarray | None = None,
        classes: int | None = None,
    ) -> None:
        """Replace the points; the data set becomes "custom" and the network starts again.
        Float ``y`` are real values (regression), integer ``y`` class labels; there are at
        least ``classes`` classes (default: as many as the labels need)."""
        s = self.settings
        target = "value" if y.dtype.kind == "f" else "label"
        if target == "value":
            classes, loss = 2, "squared_error"
        else:
            needed = int(y.max()) + 1 if len(y) else s.classes
            classes = max(2, needed, classes or 0)
            loss = (
                "cross_entropy" if classes > 2 else ("squared_error" if s.is_regression else s.loss)
            )
        self.settings = Settings.model_validate(
            {
                **s.model_dump(),
                "dataset": "custom",
                "custom_target": target,
                "classes": classes,
                "loss": loss,
            }
        )
        self.X, self.y = X, y
        self.train = split(len(X), s.train_share, s.seed) if train is None else train
        self.data_version += 1
        self.playing = False
        self._reset_network()

    def add_point(self, point: Point) -> None:
        with self.lock:
            if len(self.X) >= MAX_POINTS:
                raise PlaygroundError("x1", f"at most {MAX_POINTS} points; clear some first")
            s = self.settings
            if s.is_regression:
                raise PlaygroundError("dataset", "points can be added to classification data only")
            if point.label >= s.classes:
                raise PlaygroundError(
                    "label", f"label {point.label} but this data set has {s.classes} classes"
                )
            X = np.vstack([self.X, [[point.x1, point.x2]]])
            y = np.append(self.y, point.label).astype(np.int64)
            train = np.append(self.train, point.train)
            if s.dataset == "custom":
                self.X, self.y, self.train = X, y, train
                self.data_version += 1
                self._evaluate()
            else:
                self._to_custom(X, y, train)
            self._touch()

    def upload_csv(self, text: str) -> int:
        """Replace the points with rows ``x1,x2,label`` (classification) or ``x1,x2,value``
        (regression, values in [-1, 1]). The header line says which; without one the data set
        in use decides."""
        target = "value" if self.settings.is_regression else "label"
        rows: list[tuple[float, float, float]] = []
        header_allowed = True
        for number, row in _csv_rows(text):
            if not row or all(not cell.strip() for cell in row):
                continue
            names = tuple(cell.strip().lower() for cell in row)
            if header_allowed and names in CSV_HEADERS:
                target, header_allowed = CSV_HEADERS[names], False
                continue
            if len(row) != 3:
                raise PlaygroundError(
                    "csv", f"line {number}: expected 3 columns x1,x2,{target}; got {len(row)}"
                )
            try:
                x1, x2, v = float(row[0]), float(row[1]), float(row[2])
            except ValueError:
                if header_allowed:
                    raise PlaygroundError(
                        "csv", f"line {number}: the header must be x1,x2,label or x1,x2,value"
                    ) from None
                shown = repr(row) if len(repr(row)) <= 60 else repr(row)[:60] + "..."
                raise PlaygroundError("csv", f"line {number}: not numbers: {shown}") from None
            header_allowed = False
            if not (abs(x1) <= EXTENT and abs(x2) <= EXTENT):
                raise PlaygroundError("csv", f"line {number}: x1, x2 must lie in [-6, 6]")
            if target == "label" and v not in (0, 1, 2, 3, 4):
                raise PlaygroundError(
                    "csv",
                    f"line {number}: label must be 0, 1, 2, 3 or 4 "
                    "(real targets need the header x1,x2,value)",
                )
            if target == "value" and not -MAX_VALUE <= v <= MAX_VALUE:
                raise PlaygroundError(
                    "csv", f"line {number}: value must lie in [-1, 1] (scale the target)"
                )
            rows.append((x1, x2, v))
            if len(rows) > MAX_POINTS:
                raise PlaygroundError("csv", f"at most {MAX_POINTS} points")
        if not rows:
            raise PlaygroundError("csv", "no points in the file")
        data = np.array(rows)
        y = data[:, 2].astype(np.float64 if target == "value" else np.int64)
        with self.lock:
            self._to_custom(data[:, :2].astype(np.float64), y)
            self._touch()
        return len(rows)

    def set_points(self, body: PointSet) -> int:
        """Replace the points with ``body``'s (a shared link restoring its points); their
        training/test flags are kept, and the classes the settings have so far."""
        X = np.array([(a, b) for a, b, _, _ in body.points], dtype=np.float64).reshape(-1, 2)
        kind = np.float64 if body.target == "value" else np.int64
        y = np.array([v for _, _, v, _ in body.points], dtype=np.float64).astype(kind)
        train = np.array([t for _, _, _, t in body.points], dtype=bool)
        with self.lock:
            keep = self.settings.classes if self.settings.dataset == "custom" else None
            self._to_custom(X, y, train, classes=keep)
            self._touch()
        return len(X)

    def edit_weight(self, layer: int, source: int, target: int, value: float) -> None:
        with self.lock:
            if layer >= len(self.linears):
                raise PlaygroundError("layer", f"the network has {len(self.linears)} weight layers")
            W = self.linears[layer].params["W"]
            if source >= W.shape[0]:
                raise PlaygroundError("source", f"layer {layer} has {W.shape[0]} inputs")
            if target >= W.shape[1]:
                raise PlaygroundError("target", f"layer {layer} has {W.shape[1]} outputs")
            W[source, target] = value
            self._evaluate()
            self._touch()

    # ------------------------------------------------------------------ training
    def _targets(self, y: np.ndarray) -> np.ndarray:
        s = self.settings
        if s.loss == "cross_entropy":
            return y
        if s.is_regression:
            return y[:, None].astype(np.float64)
        return (2.0 * y - 1.0)[:, None]

    def _loss(self, pred: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        target = self._targets(y)
        if self.settings.loss == "cross_entropy":
            return softmax_cross_entropy(pred, target)
        return squared_error(pred, target)

    def _train_epoch(self) -> None:
        X = features(self.X[self.train], self.settings.inputs)
        y = self.y[self.train]
        if len(X):
            with np.errstate(all="ignore"):  # divergence is reported, not warned about
                for xb, yb in minibatches(X, y, self.settings.batch_size, rng=self.rng):
                    _, grad = self._loss(self.model.forward(xb), yb)
                    self.model.backward(grad, input_grad=False)
                    self.opt.step()
        self.epoch += 1
        self._evaluate()

    def _evaluate(self) -> None:
        """Loss and accuracy on both splits (evaluation mode) as the newest history record."""
        s = self.settings
        record: dict[str, Any] = {"epoch": self.epoch}
        self.confusion = None
        for name, mask in (("train", self.train), ("test", ~self.train)):
            if not mask.any():
                record[f"{name}_loss"] = record[f"{name}_acc"] = None
                continue
            with np.errstate(all="ignore"):
                pred = self.model.predict(features(self.X[mask], s.inputs))
                loss = self._loss(pred, self.y[mask])[0]
            record[f"{name}_loss"] = _finite(loss)
            if s.is_regression:
                record[f"{name}_acc"] = None
                continue
            guess = self._classes(pred)
            record[f"{name}_acc"] = round(float(np.mean(guess == self.y[mask])), 6)
            if name == "test":
                k = s.n_classes
                self.confusion = np.bincount(
                    self.y[mask] * k + np.clip(guess, 0, k - 1), minlength=k * k
                ).reshape(k, k)
        if self.history and self.history[-1]["epoch"] == self.epoch:
            self.history[-1] = record
        else:
            self.history.append(record)
        if len(self.history) > HISTORY_LIMIT:
            self.history = self.history[:1] + self.history[1:-1:2] + self.history[-1:]
            self.thinned += 1
        self.latest = record

    def _classes(self, pred: np.ndarray) -> np.ndarray:
        if self.settings.loss == "cross_entropy":
            return np.argmax(pred, axis=1)
        return (pred[:, 0] > 0).astype(np.int64)

    def advance(self, budget: float) -> None:
        """While playing: train whole epochs for about ``budget`` seconds (at least one)."""
        with self.lock:
            if not self.playing:
                return
            start = time.monotonic()
            while True:
                self._train_epoch()
                record, s = self.latest, self.settings
                if record["train_loss"] is None and len(self.X) and self.train.any():
                    self.playing, self.message = False, "diverged: lower the learning rate"
                elif (
                    s.stop_loss is not None
                    and record["test_loss"] is not None
                    and record["test_loss"] < s.stop_loss
                ):
                    self.playing = False
                    self.message = (
                        f"stopped at epoch {self.epoch}: test loss "
                        f"{record['test_loss']:.4f} < {s.stop_loss:g}"
                    )
                elif time.monotonic() - self._play_started > PLAY_LIMIT_SECONDS:
                    self.playing = False
                    self.message = f"paused after {PLAY_LIMIT_SECONDS:.0f} s of play"
                if not self.playing or time.monotonic() - start >= budget:
                    break
            self._touch()

    # ------------------------------------------------------------------ frames
    def neuron_maps(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The network's output and every hidden layer's activations over the grid, from one
        batched forward pass in evaluation mode: (output (GRID^2, n_out), [layer (GRID^2, n)])."""
        return forward(self.model, self.settings.inputs, GRID_POINTS)

    def warp(self, layer: int) -> dict[str, Any]:
        """How hidden layer ``layer`` (0 = the first) bends the input plane: the images of the
        grid lines x1 = -6..6 and x2 = -6..6 (``lines``: 2 * WARP_LINES polylines of
        WARP_SAMPLES (a, b) points, x1 = const first) and of every data point (``points``, in
        the frame's order), where a and b are the layer's first two neurons. A layer of more
        than two neurons is shown through those two (a projection; ``neurons`` says of how
        many). One batched forward pass; non-finite activations are None."""
        with self.lock:
            s = self.settings
            if layer >= len(s.hidden):
                raise PlaygroundError(
                    "layer", f"the network has {len(s.hidden)} hidden layers", "query"
                )
            if s.hidden[layer] < 2:
                raise PlaygroundError(
                    "layer", f"hidden layer {layer + 1} has one neuron; the view needs two", "query"
                )
            return {
                "layer": layer,
                "neurons": s.hidden[layer],
                "activation": s.activations[layer],
                **warp_images(self.model, s.inputs, self.X, layer),
                "data_version": self.data_version,
                "version": self.version,
            }

    def frame(
        self, since: int = 0, history_key: str = "", data_version: int = -1
    ) -> dict[str, Any]:
        """What the page draws. The page has ``since`` history records of ``history_key``
        (from an earlier frame; otherwise it gets them all, ``history_from`` 0) and the points of
        ``data_version`` (otherwise they are included)."""
        with self.lock:
            key = f"{self.run}.{self.thinned}"
            start = since if key == history_key and 0 <= since <= len(self.history) else 0
            s = self.settings
            frame: dict[str, Any] = {
                "run": self.run,
                "version": self.version,
                "epoch": self.epoch,
                "playing": self.playing,
                "message": self.message,
                "settings": s.model_dump(),
                **pictures(self.model, s),
                "weights": [
                    np.round(np.nan_to_num(lin.params["W"]), 4).tolist() for lin in self.linears
                ],
                "biases": [
                    np.round(np.nan_to_num(lin.params["b"]), 4).tolist() for lin in self.linears
                ],
                "latest": self.latest,
                "history": self.history[start:],
                "history_from": start,
                "history_len": len(self.history),
                "history_key": key,
                "confusion": None if self.confusion is None else self.confusion.tolist(),
                "data_version": self.data_version,
            }
            if data_version != self.data_version:
                frame["points"] = [
                    [round(float(a), 4), round(float(b), 4), _label(c), bool(t)]
                    for (a, b), c, t in zip(self.X, self.y, self.train, strict=True)
                ]
            return frame

    # ------------------------------------------------------------------ export
    def export(self) -> dict[str, Any]:
        with self.lock:
            s = self.settings
            n_out, out_act = output_head(s)
            return {
                "format": "nnlab-playground/1",
                "settings": s.model_dump(),
                "epoch": self.epoch,
                "latest": self.latest,
                "sizes": [len(s.inputs), *s.hidden, n_out],
                "output_activation": out_act,
                "state": {k: v.tolist() for k, v in self.model.named_parameters()},
            }

    def python_snippet(self) -> str:
        return python_snippet(self.export())


def _label(v: Any) -> float | int:
    return int(v) if isinstance(v, (np.integer, int)) else round(float(v), 4)

"""Convolution arithmetic: output sizes of convolution and pooling layers, and shape tables.

For one spatial dimension of size ``n``, kernel ``k``, stride ``s``, padding ``p`` (each side)
and dilation ``d``, PyTorch's ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d`` produce

    out = floor((n + 2p - d(k - 1) - 1) / s) + 1

Pooling with ``ceil_mode=True`` rounds up instead, with PyTorch's rule that the last window
must start inside the input or the left padding: if ``(out - 1) * s >= n + p``, out drops by one.

`conv_shape_main` is what ``nnlab conv-shape 50x50 conv:k=4,s=1,p=1 pool:k=2,s=1`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nnlab.errors import UserError

Pair = tuple[int, int]

KINDS = {
    "conv": "conv",
    "pool": "maxpool",
    "maxpool": "maxpool",
    "max": "maxpool",
    "avgpool": "avgpool",
    "avg": "avgpool",
    "fc": "fc",
    "linear": "fc",
}
KEYS = {
    "conv": ("c", "k", "s", "p", "d"),
    "maxpool": ("k", "s", "p", "d", "ceil"),
    "avgpool": ("k", "s", "p", "ceil"),
    "fc": ("n",),
}
SYNTAX = (
    "layers are conv:c=OUT,k=K,s=S,p=P,d=D | pool:k=K,s=S,p=P,d=D,ceil | "
    "avgpool:k=K,s=S,p=P,ceil | fc:n=OUT (k, s, p, d take N or HxW)"
)


# --------------------------------------------------------------------------- one dimension


def conv_output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution (as `torch.nn.Conv1d/2d/3d` along one dimension).

    ValueError when the dilated kernel is larger than the padded input, as PyTorch refuses it.
    """
    _check_positive(n=n, kernel=kernel, stride=stride, dilation=dilation)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    span = dilation * (kernel - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"the kernel spans {span} pixels (k={kernel}, d={dilation}) but the padded input has "
            f"only {n + 2 * padding} (n={n}, p={padding})"
        )
    return (n + 2 * padding - span) // stride + 1


def pool_output_size(
    n: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of max or average pooling (stride defaults to the kernel, as in PyTorch).

    With `ceil_mode` the division rounds up, but the last window must start inside the input
    or the left padding. ValueError where PyTorch refuses: padding more than half the kernel,
    or an empty output.
    """
    stride = kernel if stride is None else stride
    _check_positive(n=n, kernel=kernel, stride=stride, dilation=dilation)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if 2 * padding > kernel:
        raise ValueError(
            f"pooling padding must be at most half the kernel: p={padding}, k={kernel}"
        )
    span = dilation * (kernel - 1) + 1
    numerator = n + 2 * padding - span
    out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1  # the last window would start in the right padding
    if out < 1:
        raise ValueError(
            f"empty output: the window spans {span} pixels (k={kernel}, d={dilation}) but the "
            f"padded input has only {n + 2 * padding} (n={n}, p={padding})"
        )
    return out


def conv_formula(
    n: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int = 1,
    ceil_mode: bool = False,
    pooling: bool = False,
) -> str:
    """The arithmetic written out, e.g. ``floor((50 + 2*1 - 1*(4-1) - 1)/1) + 1 = 49``."""
    out = (
        pool_output_size(n, kernel, stride, padding, dilation, ceil_mode)
        if pooling
        else conv_output_size(n, kernel, stride, padding, dilation)
    )
    rounding = "ceil" if ceil_mode else "floor"
    text = f"{rounding}(({n} + 2*{padding} - {dilation}*({kernel}-1) - 1)/{stride}) + 1"
    if ceil_mode:
        numerator = n + 2 * padding - dilation * (kernel - 1) - 1
        if -(-numerator // stride) + 1 != out:
            text += " - 1 (last window would start in the padding)"
    return f"{text} = {out}"


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


# --------------------------------------------------------------------------- layers and stacks


@dataclass(frozen=True)
class Layer:
    """One layer of a stack: `kind` is "conv", "maxpool", "avgpool" or "fc".

    `out_channels` is the number of filters of a conv (None: keep the input's channels) or the
    width of an fc layer. Pool stride None means stride = kernel.
    """

    kind: str
    kernel: Pair = (1, 1)
    stride: Pair | None = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    ceil_mode: bool = False
    out_channels: int | None = None

    @classmethod
    def conv(cls, out_channels: int | None, kernel, stride=1, padding=0, dilation=1) -> Layer:
        return cls(
            "conv",
            _pair(kernel),
            _pair(stride),
            _pair(padding),
            _pair(dilation),
            False,
            out_channels,
        )

    @classmethod
    def maxpool(cls, kernel, stride=None, padding=0, dilation=1, ceil_mode=False) -> Layer:
        stride = None if stride is None else _pair(stride)
        return cls("maxpool", _pair(kernel), stride, _pair(padding), _pair(dilation), ceil_mode)

    @classmethod
    def avgpool(cls, kernel, stride=None, padding=0, ceil_mode=False) -> Layer:
        stride = None if stride is None else _pair(stride)
        return cls("avgpool", _pair(kernel), stride, _pair(padding), (1, 1), ceil_mode)

    @classmethod
    def fc(cls, out_features: int) -> Layer:
        return cls("fc", out_channels=out_features)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(C, H, W) after this layer; fc layers give (n, 1, 1). ValueError if impossible."""
        c, h, w = shape
        if self.kind == "fc":
            return (self.out_channels or 1, 1, 1)
        stride = self.stride or self.kernel
        sizes = []
        for i, n in enumerate((h, w)):
            if self.kind == "conv":
                sizes.append(
                    conv_output_size(
                        n, self.kernel[i], stride[i], self.padding[i], self.dilation[i]
                    )
                )
            else:
                sizes.append(
                    pool_output_size(
                        n,
                        self.kernel[i],
                        stride[i],
                        self.padding[i],
                        self.dilation[i],
                        self.ceil_mode,
                    )
                )
        out_c = self.out_channels if self.kind == "conv" and self.out_channels else c
        return (out_c, sizes[0], sizes[1])

    def parameters(self, shape: tuple[int, int, int]) -> int:
        """Weights + biases of this layer on an input of shape (C, H, W) (pools have none)."""
        c, h, w = shape
        if self.kind == "conv":
            out_c = self.out_channels or c
            return out_c * c * self.kernel[0] * self.kernel[1] + out_c
        if self.kind == "fc":
            return (self.out_channels or 1) * (c * h * w + 1)
        return 0

    def describe(self) -> str:
        """A short name such as ``conv 8@3x3 s=1 p=1`` or ``maxpool k=2 s=2 ceil``."""
        if self.kind == "fc":
            return f"fc {self.out_channels}"
        parts = [self.kind]
        if self.kind == "conv":
            k = self.kernel
            parts[0] += (
                f" {self.out_channels}@{k[0]}x{k[1]}" if self.out_channels else f" k={_fmt(k)}"
            )
        else:
            parts.append(f"k={_fmt(self.kernel)}")
        parts.append(f"s={_fmt(self.stride or self.kernel)}")
        if self.padding != (0, 0):
            parts.append(f"p={_fmt(self.padding)}")
        if self.dilation != (1, 1):
            parts.append(f"d={_fmt(self.dilation)}")
        if self.ceil_mode:
            parts.append("ceil")
        return " ".join(parts)

    def formula(self, shape: tuple[int, int, int]) -> str:
        """The height (and, when it differs, width) arithmetic of this layer on `shape`."""
        if self.kind == "fc":
            c, h, w = shape
            return f"flatten {c}*{h}*{w} = {c * h * w} -> {self.out_channels}"
        stride = self.stride or self.kernel
        texts = []
        for i in range(2):
            texts.append(
                conv_formula(
                    shape[1 + i],
                    self.kernel[i],
                    stride[i],
                    self.padding[i],
                    self.dilation[i],
                    self.ceil_mode,
                    pooling=self.kind != "conv",
                )
            )
        if texts[0] == texts[1]:
            return texts[0]
        return f"H: {texts[0]}; W: {texts[1]}"


def _pair(value: int | Sequence[int]) -> Pair:
    if isinstance(value, int):
        return (value, value)
    a, b = value
    return (int(a), int(b))


def _fmt(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


@dataclass(frozen=True)
class ShapeRow:
    """One row of a shape table: the layer, its output (C, H, W), parameters and arithmetic."""

    layer: str
    shape: tuple[int, int, int]
    parameters: int
    formula: str


def stack_shapes(input_shape: Sequence[int], layers: Sequence[Layer]) -> list[ShapeRow]:
    """The output shape, parameter count and arithmetic of every layer of a stack.

    `input_shape` is (H, W) or (C, H, W). ValueError naming the layer if one is impossible.
    """
    shape = _chw(input_shape)
    rows = [ShapeRow("input", shape, 0, "")]
    for i, layer in enumerate(layers, 1):
        try:
            out = layer.output_shape(shape)
            formula = layer.formula(shape)
        except ValueError as exc:
            raise ValueError(
                f"layer {i} ({layer.describe()}) on {_shape_str(shape)}: {exc}"
            ) from None
        rows.append(ShapeRow(layer.describe(), out, layer.parameters(shape), formula))
        shape = out
    return rows


def output_shape(input_shape: Sequence[int], layers: Sequence[Layer]) -> tuple[int, int, int]:
    """(C, H, W) at the end of a stack."""
    return stack_shapes(input_shape, layers)[-1].shape


def _chw(shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input shape must be (H, W) or (C, H, W) of positive sizes, got {shape}")
    return shape  # type: ignore[return-value]


def _shape_str(shape: Sequence[int]) -> str:
    return "x".join(str(v) for v in shape)


def shape_table(rows: Sequence[ShapeRow]) -> list[str]:
    """Aligned text lines: layer, output C x H x W, parameters, arithmetic; then the total."""
    from nnlab.viz.text import text_table

    body = [(r.layer, _shape_str(r.shape), r.parameters, r.formula) for r in rows]
    body.append(("total", "", sum(r.parameters for r in rows), ""))
    return text_table(["layer", "output CxHxW", "params", "arithmetic"], body)


# --------------------------------------------------------------------------- parsing, CLI


def parse_input(spec: str) -> tuple[int, int, int]:
    """``50x50`` (one channel) or ``3x32x32`` (C x H x W) -> (C, H, W). UserError if malformed."""
    parts = spec.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (2, 3) or min(values) < 1:
        raise UserError(
            f"input size {spec!r} is not HxW or CxHxW with positive integers; e.g. 50x50 or 1x28x28"
        )
    return _chw(values)


def parse_layer(spec: str) -> Layer:
    """``conv:c=8,k=3,s=1,p=1,d=1``, ``pool:k=2,s=2,ceil``, ``avgpool:k=3``, ``fc:n=10``.

    Sizes take ``N`` or ``HxW``; pool stride defaults to the kernel. UserError if malformed.
    """
    name, _, rest = spec.partition(":")
    kind = KINDS.get(name.strip().lower())
    if kind is None:
        raise UserError(f"unknown layer {spec!r}: {SYNTAX}")
    values: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if key not in KEYS[kind]:
            raise UserError(
                f"layer {spec!r}: {kind} takes {', '.join(KEYS[kind])}, not {key!r}; {SYNTAX}"
            )
        if key in values:
            raise UserError(f"layer {spec!r}: {key} given twice")
        values[key] = value.strip() if eq else "true"

    def size(key: str, default: int | None, minimum: int) -> Pair | None:
        if key not in values:
            return None if default is None else (default, default)
        parts = values[key].lower().split("x")
        try:
            pair = tuple(int(p) for p in parts)
        except ValueError:
            pair = ()
        if len(pair) == 1:
            pair = pair * 2
        if len(pair) != 2 or min(pair) < minimum:
            raise UserError(
                f"layer {spec!r}: {key}={values[key]} must be an integer >= {minimum} (or HxW)"
            )
        return pair  # type: ignore[return-value]

    def count(key: str) -> int | None:
        pair = size(key, None, 1)
        if pair is not None and "x" in values[key].lower():
            raise UserError(f"layer {spec!r}: {key}={values[key]} must be one integer")
        return None if pair is None else pair[0]

    if kind == "fc":
        n = count("n")
        if n is None:
            raise UserError(f"layer {spec!r}: fc needs its width, e.g. fc:n=10")
        return Layer.fc(n)
    kernel = size("k", None, 1)
    if kernel is None:
        raise UserError(f"layer {spec!r}: give the kernel size, e.g. {name}:k=3")
    padding = size("p", 0, 0)
    dilation = size("d", 1, 1)
    if kind == "conv":
        return Layer.conv(count("c"), kernel, size("s", 1, 1), padding, dilation)
    ceil = values.get("ceil", "false").lower()
    if ceil not in ("true", "1", "yes", "false", "0", "no"):
        raise UserError(f"layer {spec!r}: ceil takes true or false, got {ceil!r}")
    ceil_mode = ceil in ("true", "1", "yes")
    stride = size("s", None, 1)
    if kind == "avgpool":
        return Layer.avgpool(kernel, stride, padding, ceil_mode)
    return Layer.maxpool(kernel, stride, padding, dilation, ceil_mode)


def conv_shape_main(input_spec: str, layers: list[str]) -> str:
    """The table `nnlab conv-shape INPUT LAYER...` prints: each layer's output shape,
    parameters and arithmetic. UserError (one line) on a malformed or impossible stack."""
    shape = parse_input(input_spec)
    if not layers:
        raise UserError(f"give at least one layer after the input size; {SYNTAX}")
    parsed = [parse_layer(spec) for spec in layers]
    try:
        rows = stack_shapes(shape, parsed)
    except ValueError as exc:
        raise UserError(f"{exc}; change that layer or the input size") from None
    return "\n".join(shape_table(rows))


# --------------------------------------------------------------------------- seed 001, 4.1

PROBLEM_4_1 = {
    "a": ("convolution", 4, 1, 1),
    "b": ("convolution", 8, 5, 0),
    "c": ("max-pooling", 10, 2, 2),
    "d": ("max-pooling", 2, 1, 0),
}


def problem_4_1(size: int = 50) -> dict[str, dict]:
    """Seed 001 Problem 4.1: the output h x w of a `size` x `size` image through (a) conv k=4,
    s=1, p=1; (b) conv k=8, s=5, p=0; (c) max-pool k=10, s=2, p=2; (d) max-pool k=2, s=1, p=0.

    Parameters are per filter of a one-channel convolution (k*k weights + 1 bias; with C_in
    input channels and C_out filters: C_out*(C_in*k*k + 1)); pooling has none.
    """
    answers = {}
    for part, (kind, k, s, p) in PROBLEM_4_1.items():
        pooling = kind != "convolution"
        out = (pool_output_size if pooling else conv_output_size)(size, k, s, p)
        answers[part] = {
            "layer": f"{kind} k={k}, s={s}, p={p}",
            "input": [size, size],
            "output": [out, out],
            "arithmetic": conv_formula(size, k, s, p, pooling=pooling),
            "parameters_per_filter": 0 if pooling else k * k + 1,
        }
    return answers


def problem_4_1_table(answers: dict[str, dict]) -> list[str]:
    """Aligned text lines of `problem_4_1`'s answers."""
    from nnlab.viz.text import text_table

    rows = [
        (
            f"({part})",
            a["layer"],
            "x".join(map(str, a["input"])),
            "x".join(map(str, a["output"])),
            a["parameters_per_filter"],
            a["arithmetic"],
        )
        for part, a in answers.items()
    ]
    return text_table(["", "layer", "input", "output", "params/filter", "arithmetic"], rows)

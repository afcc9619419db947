"""Convolution arithmetic against real torch layers, the conv-shape table, Problem 4.1."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from nnlab.errors import UserError
from nnlab.numerics.convshape import (
    Layer,
    conv_output_size,
    conv_shape_main,
    output_shape,
    parse_layer,
    pool_output_size,
    problem_4_1,
    stack_shapes,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_size(layer: nn.Module, h: int, w: int, c: int = 1) -> tuple[int, ...] | None:
    """Output (C, H, W) of a torch layer, or None where torch refuses the setting."""
    try:
        with torch.no_grad():
            return tuple(layer(torch.zeros(1, c, h, w)).shape[1:])
    except RuntimeError:
        return None


def ours(fn, *args, **kwargs) -> int | None:
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


#: input size, kernel, stride, padding and dilation of a convolution or pooling layer
LAYER = {
    "n": st.integers(1, 40),
    "k": st.integers(1, 9),
    "s": st.integers(1, 6),
    "p": st.integers(0, 5),
    "d": st.integers(1, 4),
}


@SETTINGS
@given(**LAYER)
def test_conv_output_size_matches_torch_conv2d(n, k, s, p, d):
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    expected = torch_size(conv, n, n)
    got = ours(conv_output_size, n, k, s, p, d)
    assert got == (None if expected is None else expected[1])


@SETTINGS
@given(**LAYER, ceil=st.booleans())
def test_pool_output_size_matches_torch_maxpool2d(n, k, s, p, d, ceil):
    pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    expected = torch_size(pool, n, n)
    got = ours(pool_output_size, n, k, s, p, d, ceil)
    assert got == (None if expected is None else expected[1])


@SETTINGS
@given(
    n=st.integers(1, 40),
    k=st.integers(1, 9),
    s=st.one_of(st.none(), st.integers(1, 6)),
    p=st.integers(0, 5),
    ceil=st.booleans(),
)
def test_pool_output_size_matches_torch_avgpool2d(n, k, s, p, ceil):
    pool = nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil)
    expected = torch_size(pool, n, n)
    got = ours(pool_output_size, n, k, s, p, 1, ceil)
    assert got == (None if expected is None else expected[1])


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(1, 3),
    h=st.integers(4, 40),
    w=st.integers(4, 40),
    layers=st.lists(
        st.tuples(
            st.sampled_from(["conv", "maxpool", "avgpool"]),
            st.integers(1, 5),  # out channels
            st.tuples(st.integers(1, 5), st.integers(1, 5)),  # kernel (h, w)
            st.tuples(st.integers(1, 3), st.integers(1, 3)),  # stride
            st.tuples(st.integers(0, 2), st.integers(0, 2)),  # padding
            st.booleans(),  # ceil mode
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_rectangular_stacks_match_torch_sequential(c, h, w, layers):
    ours_layers, torch_layers, in_c = [], [], c
    for kind, out_c, k, s, p, ceil in layers:
        p = (min(p[0], k[0] // 2), min(p[1], k[1] // 2))
        if kind == "conv":
            ours_layers.append(Layer.conv(out_c, k, s, p))
            torch_layers.append(nn.Conv2d(in_c, out_c, k, s, p))
            in_c = out_c
        elif kind == "maxpool":
            ours_layers.append(Layer.maxpool(k, s, p, ceil_mode=ceil))
            torch_layers.append(nn.MaxPool2d(k, s, p, ceil_mode=ceil))
        else:
            ours_layers.append(Layer.avgpool(k, s, p, ceil_mode=ceil))
            torch_layers.append(nn.AvgPool2d(k, s, p, ceil_mode=ceil))
    net = nn.Sequential(*torch_layers)
    expected = torch_size(net, h, w, c)
    try:
        rows = stack_shapes((c, h, w), ours_layers)
    except ValueError:
        assert expected is None
        return
    assert rows[-1].shape == expected
    conv_params = sum(p.numel() for p in net.parameters())
    assert sum(r.parameters for r in rows) == conv_params


def test_known_values_and_the_ceil_mode_rule():
    assert conv_output_size(28, 5, 1, 2) == 28
    assert conv_output_size(32, 3, 2, 1) == 16
    assert conv_output_size(10, 3, 1, 0, dilation=2) == 6
    assert pool_output_size(28, 2) == 14  # stride defaults to the kernel
    assert pool_output_size(7, 2, ceil_mode=True) == 4
    assert pool_output_size(7, 2) == 3
    # ceil would give 3 windows, but the third would start at 4 = n + p: dropped (torch: 2)
    assert pool_output_size(3, 2, 2, 1, ceil_mode=True) == 2
    assert nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 3, 3)).shape[-1] == 2
    with pytest.raises(ValueError, match="spans 11 pixels"):
        conv_output_size(10, 11)
    with pytest.raises(ValueError, match="at most half"):
        pool_output_size(10, 3, padding=2)


def test_problem_4_1_answers_for_50x50():
    answers = problem_4_1(50)
    assert {part: a["output"] for part, a in answers.items()} == {
        "a": [49, 49],  # conv k=4 s=1 p=1: (50 + 2 - 4)/1 + 1
        "b": [9, 9],  # conv k=8 s=5 p=0: floor(42/5) + 1
        "c": [23, 23],  # max-pool k=10 s=2 p=2: (50 + 4 - 10)/2 + 1
        "d": [49, 49],  # max-pool k=2 s=1 p=0
    }
    assert [a["parameters_per_filter"] for a in answers.values()] == [17, 65, 0, 0]
    for part, (conv, pooling) in {"a": (True, False), "c": (False, True)}.items():
        layer = nn.Conv2d(1, 1, 4, 1, 1) if conv else nn.MaxPool2d(10, 2, 2)
        assert list(torch_size(layer, 50, 50)[1:]) == answers[part]["output"]
        del pooling


def test_conv_shape_main_prints_the_stack():
    table = conv_shape_main("50x50", ["conv:k=4,s=1,p=1", "pool:k=2,s=1"])
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["layer", "output", "CxHxW"]
    assert "1x49x49" in lines[3] and lines[3].split()[-1] == "49"
    assert "1x48x48" in lines[4]
    assert lines[-1].split() == ["total", "17"]

    table = conv_shape_main(
        "1x28x28", ["conv:c=8,k=3,p=1", "pool:k=2,s=2,ceil", "conv:c=16,k=3,d=2", "fc:n=10"]
    )
    assert "8x28x28" in table and "8x14x14" in table and "16x10x10" in table
    total = 8 * 9 + 8 + 16 * 8 * 9 + 16 + 10 * 1600 + 10
    assert table.splitlines()[-1].split() == ["total", str(total)]


def test_channels_and_ceil_and_dilation_parse():
    assert parse_layer("conv:c=8,k=3") == Layer.conv(8, 3, 1, 0, 1)
    assert parse_layer("pool:k=3x2,s=2,ceil") == Layer.maxpool((3, 2), 2, ceil_mode=True)
    assert parse_layer("maxpool:k=2,ceil=false") == Layer.maxpool(2)
    assert parse_layer("avgpool:k=3,p=1") == Layer.avgpool(3, None, 1)
    assert output_shape((3, 32, 32), [parse_layer("conv:c=6,k=5"), parse_layer("pool:k=2")]) == (
        6,
        14,
        14,
    )


@pytest.mark.parametrize(
    ("spec", "layers", "message"),
    [
        ("50", ["conv:k=3"], "is not HxW or CxHxW"),
        ("0x50", ["conv:k=3"], "is not HxW or CxHxW"),
        ("50x50", [], "at least one layer"),
        ("50x50", ["dense:n=3"], "unknown layer"),
        ("50x50", ["conv:q=3"], "conv takes c, k, s, p, d"),
        ("50x50", ["conv:s=2"], "give the kernel size"),
        ("50x50", ["conv:k=-1"], "must be an integer >= 1"),
        ("50x50", ["avgpool:k=2,d=2"], "avgpool takes"),
        ("10x10", ["conv:k=11"], "layer 1 (conv k=11 s=1) on 1x10x10"),
        ("10x10", ["conv:k=3", "pool:k=3,p=2"], "layer 2"),
    ],
)
def test_bad_specs_raise_one_line_user_errors(spec, layers, message):
    with pytest.raises(UserError) as info:
        conv_shape_main(spec, layers)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_conv_shape_command_prints_the_stack_and_rejects_bad_specs(capsys):
    from nnlab.cli import main

    assert main(["conv-shape", "50x50", "conv:k=4,s=1,p=1", "pool:k=2,s=1"]) == 0
    out = capsys.readouterr().out
    assert "1x49x49" in out and "1x48x48" in out
    assert main(["conv-shape", "10x10", "conv:k=11"]) == 2
    assert "kernel spans 11 pixels" in capsys.readouterr().err

"""The diffusion U-Net: shapes at 28x28 and 8x8, the timestep embedding, gradients reaching
every parameter, class conditioning with its null label, classifier-free guidance against
separate forwards, label dropout, one-line errors, attention, determinism and channels_last."""

from __future__ import annotations

import pytest
import torch

from nnlab.models.unet import UNet, UNetConfig, timestep_embedding

SMALL = {"channels": (8, 16, 32), "groups": 4, "time_dim": 32}


def small(seed: int = 0, **kw) -> UNet:
    """A small U-Net whose zero-initialised convs (the output and each block's second) are
    random, as training leaves them, so the output depends on the input, timestep and label."""
    torch.manual_seed(seed)
    model = UNet(UNetConfig(**{**SMALL, **kw}))
    torch.nn.init.normal_(model.out.weight, std=0.1)
    for name, p in model.named_parameters():
        if ".conv2." in name:
            torch.nn.init.normal_(p, std=0.1)
    return model.eval()


def inputs(batch: int, size: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 1, size, size, generator=g)
    return x, torch.randint(0, 1000, (batch,), generator=g)


def test_parameter_counts_match_the_docstring():
    counts = {
        "default": UNet(UNetConfig()).num_parameters(),
        "attention": UNet(UNetConfig(attention=True)).num_parameters(),
        "attention+10 classes": UNet(UNetConfig(attention=True, num_classes=10)).num_parameters(),
        "two blocks": UNet(UNetConfig(blocks=2)).num_parameters(),
        "16/32/64": UNet(UNetConfig(channels=(16, 32, 64))).num_parameters(),
    }
    assert counts == {
        "default": 981_441,
        "attention": 1_047_745,
        "attention+10 classes": 1_049_153,
        "two blocks": 1_191_681,
        "16/32/64": 285_537,
    }
    # conditioning adds (classes + null) x time_dim embedding weights, nothing else
    assert counts["attention+10 classes"] - counts["attention"] == 11 * 128


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("size", "lowest"), [(28, 7), (8, 2)])
def test_output_has_the_input_shape_and_the_middle_the_lowest_resolution(size, lowest, batch):
    model = UNet(UNetConfig()).eval()
    seen = []
    model.mid1.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    x, t = inputs(batch, size)
    with torch.no_grad():
        eps = model(x, t)
    assert eps.shape == x.shape
    assert seen == [(batch, 128, lowest, lowest)]
    assert torch.count_nonzero(eps) == 0  # the zero-initialised output conv


def test_timestep_embedding_is_bounded_and_distinct_per_step():
    t = torch.arange(1000)
    emb = timestep_embedding(t, 128)
    assert emb.shape == (1000, 128)
    assert emb.abs().max() <= 1.0
    # first half sines, second half cosines: each frequency's pair lies on the unit circle
    torch.testing.assert_close(emb[:, :64] ** 2 + emb[:, 64:] ** 2, torch.ones(1000, 64))
    gaps = torch.cdist(emb, emb) + torch.eye(1000) * 1e9
    assert gaps.min() > 0.1  # no two of the 1000 timesteps come close
    # fractional and integer timesteps agree; neighbouring fractions differ
    torch.testing.assert_close(timestep_embedding(t.float(), 128), emb)
    assert not torch.allclose(timestep_embedding(torch.tensor([3.0, 3.5]), 128)[1], emb[3])
    # and the network's time MLP keeps them apart
    model = small()
    with torch.no_grad():
        mlp = model.time_mlp(timestep_embedding(torch.tensor([0, 1, 500, 999]), 32))
    assert torch.cdist(mlp, mlp).add(torch.eye(4) * 1e9).min() > 1e-3


def test_every_parameter_gets_a_finite_gradient():
    """With the output conv at zero only it gets a gradient at first; the blocks' second convs,
    also zero, get theirs after one SGD step and pass them on after two: then every parameter
    (attention and class embedding included) gets a non-zero, finite one."""
    torch.manual_seed(0)
    model = UNet(UNetConfig(**SMALL, attention=True, num_classes=3))
    x, t = inputs(4, 8)
    labels = torch.tensor([0, 1, 2, 3])  # 3 is the null label
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def backward() -> dict[str, torch.Tensor]:
        opt.zero_grad()
        (model(x, t, labels) - torch.randn_like(x)).pow(2).mean().backward()
        return dict(model.named_parameters())

    params = backward()
    for name, p in params.items():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert (p.grad.abs().sum() > 0) == name.startswith("out."), name
    opt.step()
    backward()
    opt.step()
    for name, p in backward().items():
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("scale_shift", [False, True])
def test_untrained_blocks_are_the_identity_and_scale_shift_conditions_them(scale_shift):
    """Each block's second conv starts at zero (Ho et al. 2020): an untrained block returns
    its (projected) input whatever the timestep; trained, the embedding reaches the output
    through a sum or, with scale_shift, a scale and shift of the normalised features."""
    from nnlab.models.unet import ResBlock

    torch.manual_seed(0)
    block = ResBlock(8, 8, 16, 4, 0.0, scale_shift).eval()
    x, emb = torch.randn(2, 8, 6, 6), torch.randn(2, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x, emb), x, rtol=0, atol=0)
        torch.nn.init.normal_(block.conv2.weight, std=0.1)
        assert not torch.allclose(block(x, emb), block(x, emb.flip(0)))
    assert block.emb.out_features == (16 if scale_shift else 8)


def test_conditioning_changes_the_output_and_the_null_label_is_no_label():
    model = small(num_classes=10)
    x, t = inputs(3, 8)
    with torch.no_grad():
        none = model(x, t)
        null = model(x, t, torch.full((3,), 10))
        a = model(x, t, torch.tensor([1, 2, 3]))
        b = model(x, t, torch.tensor([4, 2, 3]))
    torch.testing.assert_close(null, none, rtol=0, atol=0)
    assert not torch.allclose(a, none)
    assert not torch.allclose(a[0], b[0])
    torch.testing.assert_close(a[1:], b[1:])  # labels act per image


def test_guidance_interpolates_and_extrapolates_the_two_predictions():
    model = small(num_classes=10, attention=True)
    x, t = inputs(3, 8)
    labels = torch.tensor([0, 5, 9])
    with torch.no_grad():
        cond, uncond = model(x, t, labels), model(x, t)
        torch.testing.assert_close(model.guided(x, t, labels, 0.0), uncond)
        torch.testing.assert_close(model.guided(x, t, labels, 1.0), cond)
        torch.testing.assert_close(model.guided(x, t, labels, 3.0), uncond + 3 * (cond - uncond))
    assert not torch.allclose(cond, uncond)


def test_guidance_is_one_batched_forward():
    model = small(num_classes=10)
    calls = []
    model.stem.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    x, t = inputs(3, 8)
    with torch.no_grad():
        model.guided(x, t, torch.tensor([0, 1, 2]), 2.0)
    assert calls == [6]


def test_label_dropout_rate_reproducibility_and_kept_labels():
    model = small(num_classes=10)
    labels = torch.arange(20_000) % 10

    def drop(p: float, seed: int = 0) -> torch.Tensor:
        return model.drop_labels(labels, p, torch.Generator().manual_seed(seed))

    dropped = drop(0.2)
    null = dropped == 10
    assert abs(null.float().mean().item() - 0.2) < 0.01  # 20,000 draws: sd 0.003
    torch.testing.assert_close(dropped[~null], labels[~null])
    torch.testing.assert_close(drop(0.2), dropped)
    assert not torch.equal(drop(0.2, seed=1), dropped)
    torch.testing.assert_close(drop(0.0), labels)
    assert (drop(1.0) == 10).all()
    assert labels.max() == 9  # the input is not modified


def forward_with_labels(model: UNet) -> None:
    model(*inputs(2, 8), torch.zeros(2, dtype=torch.long))


ERRORS = {
    "groups vs a width": (
        lambda: UNetConfig(channels=(32, 64, 100)),
        r"groups \(8\) must divide .* 100 is not divisible by 8",
    ),
    "groups vs every width": (lambda: UNetConfig(groups=3), r"groups \(3\) must divide every"),
    "heads": (lambda: UNetConfig(attention=True, heads=3), r"heads \(3\) must divide"),
    "odd time_dim": (lambda: UNetConfig(time_dim=33), "time_dim must be even"),
    "no channels": (lambda: UNetConfig(channels=()), "channels must be a non-empty"),
    "dropout": (lambda: UNetConfig(dropout=1.0), r"dropout must be in \[0, 1\)"),
    "num_classes": (lambda: UNetConfig(num_classes=-1), "num_classes must be >= 0"),
    "10x10": (lambda: UNet(UNetConfig())(*inputs(2, 10)), "image size 10x10 is not supported"),
    "28x28 with 4 resolutions": (
        lambda: UNet(UNetConfig(channels=(8, 16, 32, 64)))(*inputs(2, 28)),
        "with 4 resolutions height and width must be multiples of 8",
    ),
    "image channels": (
        lambda: UNet(UNetConfig())(torch.zeros(2, 3, 8, 8), torch.zeros(2)),
        r"x must be \(B, 1, H, W\), got \(2, 3, 8, 8\)",
    ),
    "timesteps": (
        lambda: UNet(UNetConfig())(torch.zeros(2, 1, 8, 8), torch.zeros(3)),
        r"t must be one timestep per image, \(2,\), got \(3,\)",
    ),
    "labels, unconditional": (
        lambda: forward_with_labels(UNet(UNetConfig())),
        "labels given to an unconditional U-Net",
    ),
    "guidance, unconditional": (
        lambda: UNet(UNetConfig()).guided(*inputs(2, 8), torch.zeros(2).long(), 2.0),
        "guidance needs a class-conditional",
    ),
    "label dropout p": (
        lambda: small(num_classes=2).drop_labels(torch.zeros(3).long(), 1.5),
        r"p must be in \[0, 1\], got 1.5",
    ),
}


@pytest.mark.parametrize(("make", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_bad_configs_and_inputs_are_one_line_value_errors(make, message):
    with pytest.raises(ValueError, match=message) as err:
        make()
    assert "\n" not in str(err.value)


def test_attention_on_and_off_both_work_and_attention_matters():
    x, t = inputs(3, 28)
    with torch.no_grad():
        plain, attended = small(seed=0)(x, t), small(seed=0, attention=True)(x, t)
    assert plain.shape == attended.shape == x.shape
    assert torch.isfinite(attended).all()
    assert not torch.allclose(plain, attended)
    # attention is residual: zeroing its output projection gives the plain network back
    model = small(seed=0, attention=True)
    plain_again = small(seed=0)
    plain_again.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("attn.")}
    )
    torch.nn.init.zeros_(model.attn.proj.weight)
    torch.nn.init.zeros_(model.attn.proj.bias)
    with torch.no_grad():
        torch.testing.assert_close(model(x, t), plain_again(x, t))


def test_eval_is_deterministic_and_train_mode_dropout_is_not():
    x, t = inputs(3, 8)
    a, b = small(seed=3, dropout=0.3), small(seed=3, dropout=0.3)
    with torch.no_grad():
        first = a(x, t)
        torch.testing.assert_close(a(x, t), first, rtol=0, atol=0)
        torch.testing.assert_close(b(x, t), first, rtol=0, atol=0)
        a.train()
        assert not torch.allclose(a(x, t), first)


def test_channels_last_gives_the_same_output_in_channels_last():
    model = small(attention=True, num_classes=3)
    x, t = inputs(3, 28)
    labels = torch.tensor([0, 1, 3])
    with torch.no_grad():
        reference = model(x, t, labels)
        model = model.to(memory_format=torch.channels_last)
        eps = model(x.contiguous(memory_format=torch.channels_last), t, labels)
    assert eps.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(eps, reference, rtol=1e-4, atol=1e-5)


def test_a_few_adam_steps_fit_the_noise_of_a_fixed_batch():
    """Not a diffusion run: only that the network can learn ε from (x_t, t) at all."""
    torch.manual_seed(0)
    model = UNet(UNetConfig(**SMALL))
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(16, 1, 8, 8, generator=g).sign()
    eps = torch.randn(16, 1, 8, 8, generator=g)
    t = torch.randint(0, 1000, (16,), generator=g)
    keep = torch.cos(t / 1000 * torch.pi / 2)[:, None, None, None]
    xt = keep * x0 + (1 - keep**2).sqrt() * eps
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = (model(xt, t) - eps).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(eps.pow(2).mean().item())  # ε = 0 at the start
    assert losses[-1] < 0.4 * losses[0]  # 0.13-0.18 over seeds 0-2


def test_time_embedding_stays_float32_under_bf16_autocast():
    """Under bfloat16 autocast the time MLP would take bf16 inputs (an error of ~0.006 in its
    output for t = 999 at this size) and t itself, were it cast to the autocast dtype, would
    round 998 and 999 both to 1000. The embedding must be the float32 one, and adjacent late
    timesteps must stay apart."""
    torch.manual_seed(0)
    model = UNet(UNetConfig(1, (16, 32, 64))).eval()
    t = torch.tensor([998, 999])
    seen = {}
    model.time_mlp.register_forward_hook(lambda m, i, out: seen.update(emb=out))
    x = torch.zeros(2, 1, 28, 28)
    with torch.no_grad():
        model(x, t)
        want = seen["emb"].clone()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(x, t)
    got = seen["emb"]
    assert got.dtype == torch.float32
    assert torch.allclose(got, want, atol=1e-6, rtol=0)
    assert (got[1] - got[0]).norm() > 0.1 * want.norm(dim=1).mean()


def test_channels_last_groupnorm_matches_the_plain_one():
    """The U-Net's GroupNorm takes a detour through NCHW for channels-last inputs with few
    channels per group, more of them under bf16 autocast (for speed); its output and gradients
    must equal nn.GroupNorm's, in float32 and under autocast."""
    from torch import nn

    from nnlab.models.unet import GroupNorm

    torch.manual_seed(0)
    for bf16, channels in [(False, 16), (False, 32), (True, 16), (True, 64), (True, 128)]:
        x = torch.randn(4, channels, 6, 6).contiguous(memory_format=torch.channels_last)
        ours, plain = GroupNorm(8, channels), nn.GroupNorm(8, channels)
        nn.init.normal_(ours.weight)
        plain.load_state_dict(ours.state_dict())
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y, y_plain = ours(a), plain(b)
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert y.dtype == y_plain.dtype
        assert torch.allclose(y.float(), y_plain.float(), atol=1e-5 if not bf16 else 2e-2)
        y.float().square().sum().backward()
        y_plain.float().square().sum().backward()
        assert torch.allclose(a.grad, b.grad, atol=1e-4 if not bf16 else 5e-2)
        assert torch.allclose(ours.weight.grad, plain.weight.grad, rtol=1e-4 if not bf16 else 2e-2)


def test_pipeline_samples_conditionally_in_one_plain_forward_at_guidance_one():
    """At guidance 1, ε_uncond + 1·(ε_cond − ε_uncond) is ε_cond: the pipeline's sampler
    callable must run the labelled batch once, not the doubled batch of `guided`."""
    from nnlab.diffusion.pipeline import DiffusionPipeline, make_schedule, schedule_config

    model = small(num_classes=10).eval()
    config = schedule_config("linear", 10)
    pipe = DiffusionPipeline(model, make_schedule(config), config, (1, 8, 8))
    calls = []
    model.stem.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    x, t = inputs(3, 8)
    labels = torch.tensor([0, 5, 9])
    with torch.no_grad():
        plain = pipe.eps_model(labels, 1.0)(x, t)
        torch.testing.assert_close(plain, model(x, t, labels))
        torch.testing.assert_close(plain, model.guided(x, t, labels, 1.0))
        calls.clear()
        pipe.eps_model(labels, 1.0)(x, t)
        assert calls == [3]
        pipe.eps_model(labels, 2.0)(x, t)
        assert calls == [3, 6]

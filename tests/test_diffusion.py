"""Noise schedules and samplers against closed forms: schedule values, the moments of
q(x_t | x0), the DDIM step at eta = 1 against the DDPM step with beta~, a perfect noise
oracle recovering x0, and the exact noise predictor of Gaussian data sampling that Gaussian."""

from __future__ import annotations

import math

import pytest
import torch

from nnlab.diffusion.samplers import Trajectory, ddim_timesteps, sample_ddim, sample_ddpm
from nnlab.diffusion.schedules import NoiseSchedule
from nnlab.training.threads import torch_threads

EPS32 = torch.finfo(torch.float32).eps
LINEAR = NoiseSchedule.linear()
# Ho et al.'s schedule in a quarter of the steps (abar_T = 3.3e-5), for sampling big batches
SHORT = NoiseSchedule.linear(250, 4e-4, 0.08)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors on shared cores: one thread is faster and does not spin."""
    with torch_threads(1):
        yield


def cosine_abar(t: float, T: int, s: float = 0.008) -> float:
    f = lambda u: math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return f(t) / f(0)


def oracle(schedule: NoiseSchedule, x0: torch.Tensor):
    """The model that knows x0: the noise that turns x0 into the x_t it is given."""

    def model(x, t):
        abar = schedule.alphas_cumprod[t].reshape(-1, *[1] * (x.ndim - 1))
        return ((x - abar.sqrt().float() * x0) / (1 - abar).sqrt().float()).float()

    return model


# --------------------------------------------------------------------- schedules


def test_linear_schedule_matches_ho_et_al():
    betas = [1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)]
    assert LINEAR.T == 1000
    assert LINEAR.betas[0].item() == pytest.approx(1e-4, rel=1e-12)
    assert LINEAR.betas[-1].item() == pytest.approx(0.02, rel=1e-12)
    abar_T = math.prod(1 - b for b in betas)  # computed in Python floats: 4.0358e-05
    assert LINEAR.alphas_cumprod[-1].item() == pytest.approx(abar_T, rel=1e-10)
    assert abar_T == pytest.approx(4.0358e-5, rel=1e-4)
    assert torch.equal(LINEAR.alphas, 1 - LINEAR.betas)
    assert LINEAR.alphas_cumprod_prev[0].item() == 1.0
    assert torch.equal(LINEAR.alphas_cumprod_prev[1:], LINEAR.alphas_cumprod[:-1])


def test_posterior_tables_are_ho_et_al_eq7():
    s = LINEAR
    for t in (0, 1, 500, 999):
        b, a, ab = s.betas[t].item(), s.alphas[t].item(), s.alphas_cumprod[t].item()
        ab_prev = s.alphas_cumprod[t - 1].item() if t else 1.0
        assert s.posterior_variance[t].item() == pytest.approx((1 - ab_prev) / (1 - ab) * b)
        assert s.posterior_mean_coef_x0[t].item() == pytest.approx(ab_prev**0.5 * b / (1 - ab))
        assert s.posterior_mean_coef_xt[t].item() == pytest.approx(
            a**0.5 * (1 - ab_prev) / (1 - ab)
        )
    # beta~_0 = 0 (no noise at the last step), and beta~_t < beta_t after it
    assert s.posterior_variance[0].item() == 0.0
    assert bool((s.posterior_variance[1:] < s.betas[1:]).all())
    # The posterior mean of a noiseless x_t = sqrt(abar_t) x0 is sqrt(abar_{t-1}) x0
    lhs = s.posterior_mean_coef_x0 + s.posterior_mean_coef_xt * s.alphas_cumprod.sqrt()
    torch.testing.assert_close(lhs, s.alphas_cumprod_prev.sqrt(), rtol=1e-12, atol=1e-12)


def test_cosine_schedule_matches_nichol_and_dhariwal():
    T = 1000
    s = NoiseSchedule.cosine(T)
    abar = s.alphas_cumprod
    assert abar[0].item() == pytest.approx(cosine_abar(1, T), rel=1e-12)  # 0.999959
    assert abar[0].item() > 0.9999
    assert bool((abar[1:] < abar[:-1]).all()), "abar must decrease strictly"
    # Only the last beta (which would be 1) is clipped; before it abar is the closed form
    assert s.betas[-1].item() == pytest.approx(0.999)
    assert bool((s.betas[:-1] < 0.999).all())
    closed = torch.tensor([cosine_abar(t, T) for t in range(1, T)], dtype=torch.float64)
    torch.testing.assert_close(abar[:-1], closed, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: NoiseSchedule.linear(T=0), r"T \(the number of diffusion steps\) must be"),
        (lambda: NoiseSchedule.linear(T=2.5), r"integer >= 1, got 2\.5"),
        (lambda: NoiseSchedule.linear(beta_start=0.0), r"0 < beta_start < beta_end < 1"),
        (lambda: NoiseSchedule.linear(beta_start=0.02, beta_end=0.01), r"beta_start=0\.02"),
        (lambda: NoiseSchedule.linear(beta_end=1.0), r"beta_end=1\.0"),
        (lambda: NoiseSchedule.cosine(T=0), r"must be an integer >= 1, got 0"),
        (lambda: NoiseSchedule.cosine(s=-0.1), r"offset s must be >= 0"),
        (lambda: NoiseSchedule.from_betas([0.1, 1.0]), r"every beta must be in \(0, 1\)"),
        (lambda: NoiseSchedule.from_betas([]), r"non-empty 1-D"),
    ],
)
def test_bad_schedules_are_one_line_value_errors(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_to_moves_every_table():
    moved = LINEAR.to("cpu")
    assert moved.T == LINEAR.T and moved.device == torch.device("cpu")
    assert torch.equal(moved.posterior_variance, LINEAR.posterior_variance)
    assert "T=1000" in repr(moved)


# --------------------------------------------------------------------- forward process


def test_q_xt_given_x0_has_the_closed_form_moments():
    """N draws per timestep: the empirical mean and variance of each pixel lie within 5
    standard errors of sqrt(abar_t) x0 and 1 - abar_t (SE of the mean sqrt(v / N), of the
    variance v sqrt(2 / (N - 1)) for Gaussian draws)."""
    n, steps = 20_000, torch.tensor([0, 10, 250, 999])
    x0 = torch.tensor([[-1.0, -0.3], [0.5, 1.0]]).expand(len(steps) * n, 1, 2, 2)
    t = steps.repeat_interleave(n)
    gen = torch.Generator().manual_seed(0)
    x_t = LINEAR.add_noise(x0, t, torch.randn(x0.shape, generator=gen))
    x_t = x_t.reshape(len(steps), n, 1, 2, 2).double()
    abar = LINEAR.alphas_cumprod[steps].reshape(-1, 1, 1, 1)
    mean, var = x_t.mean(1), x_t.var(1)
    v = 1 - abar
    assert bool(((mean - abar.sqrt() * x0[:1].double()).abs() <= 5 * (v / n).sqrt()).all())
    assert bool(((var - v).abs() <= 5 * v * math.sqrt(2 / (n - 1))).all())


def test_predict_x0_inverts_add_noise_for_every_timestep():
    gen = torch.Generator().manual_seed(1)
    x0 = torch.rand(1000, 3, 4, 4, generator=gen) * 2 - 1
    noise = torch.randn(x0.shape, generator=gen)
    t = torch.arange(1000)
    back = LINEAR.predict_x0(LINEAR.add_noise(x0, t, noise), t, noise)
    # float32 rounding of x_t (|x_t| < 6) grows by 1 / sqrt(abar_t), up to 157 at t = 999
    bound = 8 * EPS32 * 6 / LINEAR.alphas_cumprod.sqrt().float().reshape(-1, 1, 1, 1)
    assert bool(((back - x0).abs() <= bound).all())
    assert back.dtype == torch.float32


def test_an_int_timestep_is_the_same_as_a_batch_of_it():
    x0, noise = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    batch = LINEAR.add_noise(x0, torch.tensor([321, 321]), noise)
    assert torch.equal(LINEAR.add_noise(x0, 321, noise), batch)
    assert torch.equal(LINEAR.add_noise(x0, torch.tensor(321), noise), batch)


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (1000, r"t must be in \[0, 999\], got 1000"),
        (-1, r"t must be in \[0, 999\], got -1"),
        (torch.tensor([0, 1000]), r"got values from 0 to 1000"),
        (torch.tensor([0.0, 1.0]), r"integer tensor \(torch.long\), got torch.float32"),
        (torch.tensor([0, 1, 2]), r"a \(2,\) tensor, one timestep per sample; got shape \(3,\)"),
    ],
)
def test_bad_timesteps_are_value_errors(t, message):
    x = torch.zeros(2, 1, 2, 2)
    with pytest.raises(ValueError, match=message):
        LINEAR.add_noise(x, t, x)


# --------------------------------------------------------------------- reverse steps


def test_ddim_with_eta_1_is_the_ddpm_step_with_beta_tilde():
    """Song et al. (2021): at eta = 1 and t_prev = t - 1, sigma_t^2 = beta~_t and the mean is
    the DDPM posterior mean; one sample per timestep, the same noise for both."""
    gen = torch.Generator().manual_seed(2)
    t = torch.arange(1000)
    x_t, eps = torch.randn(1000, 1, 3, 3, generator=gen), torch.randn(1000, 1, 3, 3, generator=gen)
    for clip in (False, True):
        ddpm = LINEAR.ddpm_step(
            eps, t, x_t, torch.Generator().manual_seed(3), variance="beta_tilde", clip_x0=clip
        )
        ddim = LINEAR.ddim_step(
            eps, t, t - 1, x_t, 1.0, torch.Generator().manual_seed(3), clip_x0=clip
        )
        torch.testing.assert_close(ddim, ddpm, rtol=0, atol=1e-6)
    # and with int timesteps, as the sampling loops call them
    for step in (0, 1, 500, 999):
        a = LINEAR.ddpm_step(
            eps, step, x_t, torch.Generator().manual_seed(4), variance="beta_tilde"
        )
        b = LINEAR.ddim_step(eps, step, step - 1, x_t, 1.0, torch.Generator().manual_seed(4))
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_ddpm_variance_choice_scales_the_same_noise():
    """The two choices differ by (sqrt(beta_t) - sqrt(beta~_t)) z, and not at all at t = 0."""
    gen = torch.Generator().manual_seed(5)
    t = torch.arange(1000)
    x_t, eps = torch.randn(1000, 4, generator=gen), torch.randn(1000, 4, generator=gen)
    z = torch.randn(1000, 4, generator=torch.Generator().manual_seed(6))
    beta = LINEAR.ddpm_step(eps, t, x_t, torch.Generator().manual_seed(6), variance="beta")
    tilde = LINEAR.ddpm_step(eps, t, x_t, torch.Generator().manual_seed(6), variance="beta_tilde")
    scale = (LINEAR.betas.sqrt() - LINEAR.posterior_variance.sqrt()).float()
    scale[0] = 0.0
    torch.testing.assert_close(beta - tilde, scale[:, None] * z, rtol=0, atol=2e-6)
    assert torch.equal(beta[0], tilde[0])
    with pytest.raises(ValueError, match="variance must be 'beta' or 'beta_tilde'"):
        LINEAR.ddpm_step(eps, t, x_t, variance="learned")


def test_deterministic_ddim_draws_no_noise_and_clipping_bounds_x0():
    gen = torch.Generator().manual_seed(7)
    state = gen.get_state()
    x_t, eps = torch.randn(8, 2) * 5, torch.randn(8, 2)
    LINEAR.ddim_step(eps, 999, 979, x_t, 0.0, gen)
    assert torch.equal(gen.get_state(), state)
    # t_prev = -1 returns the predicted x0 itself, which clipping keeps in [-1, 1]
    clipped = LINEAR.ddim_step(eps, 999, -1, x_t, clip_x0=True)
    torch.testing.assert_close(clipped, LINEAR.predict_x0(x_t, 999, eps).clamp(-1, 1))
    assert LINEAR.predict_x0(x_t, 999, eps).abs().max() > 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: LINEAR.ddim_step(x, 10, 10, x), r"t_prev must be smaller than t"),
        (lambda x: LINEAR.ddim_step(x, 10, -2, x), r"t_prev must be in \[-1, 999\], got -2"),
        (lambda x: LINEAR.ddim_step(x, 10, 5, x, eta=1.5), r"eta must be in \[0, 1\]"),
    ],
)
def test_bad_step_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(torch.zeros(2, 3))


# --------------------------------------------------------------------- sampling loops


@pytest.mark.parametrize("spacing", ["trailing", "linspace", "leading"])
@pytest.mark.parametrize("steps", [1, 2, 10, 50, 1000])
def test_deterministic_ddim_with_a_perfect_oracle_recovers_x0_from_any_start(steps, spacing):
    """To 1e-5, except in a single step from t = T-1: x_T holds x0 only as sqrt(abar) x0 =
    0.006 x0, so float32 rounding of x_T (|x_T| < 12) limits x0 to ~ulp(x_T) / sqrt(abar)."""
    gen = torch.Generator().manual_seed(8)
    x0 = torch.rand(4, 1, 6, 6, generator=gen) * 2 - 1
    first = ddim_timesteps(1000, steps, spacing)[0]
    for schedule in (LINEAR, NoiseSchedule.cosine(1000)):
        tol = max(1e-5, 8 * EPS32 * 12 / schedule.alphas_cumprod[first].sqrt().item())
        for scale in (1.0, 3.0):
            x_T = scale * torch.randn(x0.shape, generator=gen)
            x = sample_ddim(
                oracle(schedule, x0), schedule, x0.shape, steps, spacing=spacing, x_T=x_T
            )
            assert (x - x0).abs().max().item() < tol


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ddpm_with_a_perfect_oracle_ends_at_x0(variance):
    gen = torch.Generator().manual_seed(9)
    x0 = torch.rand(4, 1, 6, 6, generator=gen) * 2 - 1
    x = sample_ddpm(oracle(LINEAR, x0), LINEAR, x0.shape, gen, variance=variance)
    assert (x - x0).abs().max().item() < 1e-5


MU, SD = 0.5, 0.1  # data N(MU, SD^2): concentrated, so coarse steps lose variance


def gaussian_eps_model(schedule: NoiseSchedule):
    """The exact noise predictor of data x0 ~ N(MU, SD^2):
    E[eps | x_t] = sqrt(1 - abar) (x_t - sqrt(abar) MU) / (abar SD^2 + 1 - abar)."""

    def model(x, t):
        abar = schedule.alphas_cumprod[t].reshape(-1, *[1] * (x.ndim - 1))
        return ((1 - abar).sqrt() * (x - abar.sqrt() * MU) / (abar * SD**2 + 1 - abar)).float()

    return model


def exact_moments(schedule, pairs, eta: float, ddpm_beta=False) -> tuple[float, float]:
    """Mean and standard deviation of a sampler's output under that model, from x_T ~ N(0, 1):
    each step of Song et al.'s eq. 12 is affine in x_t (x0_hat and eps_hat are), so the law
    stays Gaussian, m <- A m + B and v <- A^2 v + sigma^2; Ho et al.'s beta variance keeps the
    eta = 1 mean and sets sigma^2 = beta_t."""
    abar = schedule.alphas_cumprod.tolist()
    m, v = 0.0, 1.0
    for t, t_prev in pairs:
        a, ap = abar[t], (abar[t_prev] if t_prev >= 0 else 1.0)
        gain = math.sqrt(a) * SD**2 / (a * SD**2 + 1 - a)  # x0_hat = MU + gain (x - sqrt(a) MU)
        sigma2 = eta**2 * (1 - ap) / (1 - a) * (1 - a / ap)
        d = math.sqrt(max(0.0, 1 - ap - sigma2))  # eps_hat = (x - sqrt(a) x0_hat) / sqrt(1 - a)
        A = math.sqrt(ap) * gain + d * (1 - math.sqrt(a) * gain) / math.sqrt(1 - a)
        x0_at_0 = MU - gain * math.sqrt(a) * MU  # x0_hat at x = 0
        B = math.sqrt(ap) * x0_at_0 - d * math.sqrt(a) * x0_at_0 / math.sqrt(1 - a)
        if ddpm_beta and t > 0:
            sigma2 = 1 - a / ap  # beta_t
        m, v = A * m + B, A * A * v + sigma2
    return m, math.sqrt(v)


def every_step(schedule):
    return [(t, t - 1) for t in range(schedule.T - 1, -1, -1)]


def ddim_pairs(steps, spacing="trailing"):
    ts = ddim_timesteps(SHORT.T, steps, spacing)
    return list(zip(ts, [*ts[1:], -1], strict=True))


N = 40_000


@pytest.mark.parametrize(
    ("sampler", "pairs", "eta", "ddpm_beta"),
    [
        (lambda m, g: sample_ddpm(m, SHORT, (N, 1), g), every_step(SHORT), 1.0, True),
        (
            lambda m, g: sample_ddpm(m, SHORT, (N, 1), g, variance="beta_tilde"),
            every_step(SHORT),
            1.0,
            False,
        ),
        (lambda m, g: sample_ddim(m, SHORT, (N, 1), 25, 0.0, g), ddim_pairs(25), 0.0, False),
        (
            lambda m, g: sample_ddim(m, SHORT, (N, 1), 25, 0.0, g, spacing="linspace"),
            ddim_pairs(25, "linspace"),
            0.0,
            False,
        ),
        (lambda m, g: sample_ddim(m, SHORT, (N, 1), 50, 1.0, g), ddim_pairs(50), 1.0, False),
    ],
    ids=["ddpm-beta", "ddpm-beta-tilde", "ddim-25-eta0", "ddim-25-eta0-linspace", "ddim-50-eta1"],
)
def test_samples_of_gaussian_data_have_the_exact_law_of_the_discrete_sampler(
    sampler, pairs, eta, ddpm_beta
):
    """40,000 samples: mean and standard deviation within 5 standard errors (sd / sqrt(N),
    sd / sqrt(2N): 2.5e-3 and 1.8e-3 relative) of the closed form. In 250 steps, beta~ keeps
    0.89 of the data's spread and beta 1.03; 25 DDIM steps keep 0.56 (trailing) and 0.67
    (linspace): discretisation, all of which the closed form predicts."""
    mean, sd = exact_moments(SHORT, pairs, eta, ddpm_beta)
    x = sampler(gaussian_eps_model(SHORT), torch.Generator().manual_seed(10)).double()
    assert x.mean().item() == pytest.approx(mean, abs=5 * sd / math.sqrt(N))
    assert x.std().item() == pytest.approx(sd, abs=5 * sd / math.sqrt(2 * N))


def test_all_thousand_ddpm_steps_sample_the_data_law():
    """With every step and sigma_t^2 = beta_t the discrete sampler's law is the data's to 1%."""
    mean, sd = exact_moments(LINEAR, every_step(LINEAR), 1.0, ddpm_beta=True)
    assert mean == pytest.approx(MU, abs=1e-3)
    assert sd == pytest.approx(SD, rel=0.01)


def test_samplers_call_the_model_once_per_step_on_the_whole_batch():
    calls = []

    def model(x, t):
        calls.append((x.shape, t.tolist()))
        return torch.zeros_like(x)

    sample_ddim(model, LINEAR, (5, 1, 2, 2), steps=4)
    assert calls == [((5, 1, 2, 2), [t] * 5) for t in (999, 749, 499, 249)]


def test_sampling_is_reproducible_float32_and_reports_progress():
    model = lambda x, t: 0.1 * x  # noqa: E731
    seen = []
    a = sample_ddpm(
        model,
        LINEAR,
        (3, 2),
        torch.Generator().manual_seed(11),
        progress=lambda i, n: seen.append((i, n)),
    )
    b = sample_ddpm(model, LINEAR, (3, 2), torch.Generator().manual_seed(11))
    assert torch.equal(a, b) and a.dtype == torch.float32
    assert seen == [(i, 1000) for i in range(1, 1001)]
    c = sample_ddim(model, LINEAR, (3, 2), 20, 1.0, torch.Generator().manual_seed(11))
    d = sample_ddim(model, LINEAR, (3, 2), 20, 1.0, torch.Generator().manual_seed(11))
    assert torch.equal(c, d) and not torch.equal(a, c)


def test_trajectory_keeps_the_start_every_kth_state_and_the_sample():
    strip = Trajectory(every=100)
    x = sample_ddpm(
        lambda x, t: 0.1 * x, LINEAR, (2, 1, 3, 3), torch.Generator().manual_seed(12), record=strip
    )
    assert strip.timesteps == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99, -1]
    assert strip.stack().shape == (11, 2, 1, 3, 3)
    assert torch.equal(strip.states[-1], x)
    strip = Trajectory(every=3)
    sample_ddim(lambda x, t: 0.1 * x, LINEAR, (2, 4), steps=10, record=strip)
    assert strip.timesteps == [999, 699, 399, 99, -1]
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        Trajectory(every=0)


def test_a_model_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"model\(x, t\) returned shape \(2, 1\) for x of shape \(2, 4\)"
    ):
        sample_ddim(lambda x, t: x[:, :1], LINEAR, (2, 4), steps=5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_sampling_on_cuda_matches_the_generator_device():
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = sample_ddim(lambda x, t: 0.1 * x, LINEAR, (2, 4), 10, 1.0, gen, "cuda")
    assert x.device.type == "cuda"
    with pytest.raises(ValueError, match="the generator is on cpu but x_t is on cuda"):
        sample_ddim(lambda x, t: 0.1 * x, LINEAR, (2, 4), 10, 1.0, torch.Generator(), "cuda")


# --------------------------------------------------------------------- DDIM subsequences


@pytest.mark.parametrize("spacing", ["trailing", "linspace", "leading"])
@pytest.mark.parametrize(
    ("T", "steps"), [(1000, 1), (1000, 50), (1000, 999), (1000, 1000), (10, 3), (7, 7)]
)
def test_ddim_timesteps_are_distinct_decreasing_and_in_range(T, steps, spacing):
    ts = ddim_timesteps(T, steps, spacing)
    assert len(ts) == steps
    assert all(a > b for a, b in zip(ts, ts[1:], strict=False))
    assert ts[-1] >= 0 and ts[0] <= T - 1


def test_ddim_timestep_endpoints_follow_lin_et_al():
    trailing = ddim_timesteps(1000, 50)
    assert trailing[:2] == [999, 979] and trailing[-1] == 19
    linspace = ddim_timesteps(1000, 50, "linspace")
    assert linspace[0] == 999 and linspace[-1] == 0
    leading = ddim_timesteps(1000, 50, "leading")
    assert leading[0] == 980 and leading[-1] == 0
    assert ddim_timesteps(10, 3) == [9, 6, 2]  # round(10 k / 3) - 1 for k = 3, 2, 1
    assert ddim_timesteps(1000, 1) == [999] == ddim_timesteps(1000, 1, "linspace")
    for spacing in ("trailing", "linspace", "leading"):
        assert ddim_timesteps(1000, 1000, spacing) == list(range(999, -1, -1))


@pytest.mark.parametrize("steps", [0, -3, 1001])
def test_steps_out_of_range_name_the_allowed_range(steps):
    message = rf"steps must be an integer from 1 to T = 1000, got {steps}$"
    with pytest.raises(ValueError, match=message):
        ddim_timesteps(1000, steps)
    with pytest.raises(ValueError, match=message):
        sample_ddim(lambda x, t: x, LINEAR, (1, 2), steps)
    with pytest.raises(ValueError, match="spacing must be 'trailing', 'linspace' or 'leading'"):
        ddim_timesteps(1000, 10, "uniform")

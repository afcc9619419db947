"""Diffusion, independent of any network (see README.md): `schedules` (the noise schedule: forward
process and one reverse step), `samplers` (the DDPM and DDIM loops), `pipeline` (weights +
schedule + sampler: sampling from a trained run) and `frechet` (the Fréchet measure of sample
quality).

    schedule = NoiseSchedule.linear()
    x = sample_ddim(model, schedule, (16, 1, 28, 28), steps=50)
"""

from nnlab.diffusion.samplers import Trajectory, ddim_timesteps, sample_ddim, sample_ddpm
from nnlab.diffusion.schedules import NoiseSchedule

__all__ = ["NoiseSchedule", "Trajectory", "ddim_timesteps", "sample_ddim", "sample_ddpm"]

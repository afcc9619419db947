"""Diffusion, independent of any network (see README.md): `schedules` (the noise schedule: forward
process and one reverse step), `samplers` (the DDPM and DDIM loops), `pipeline` (weights +
schedule + sampler: sampling from a trained run), `train` (the noise predictor's training loop)
and `frechet` (the Fréchet measure of sample quality). Importing the package loads nothing.

    from nnlab.diffusion.schedules import NoiseSchedule
    from nnlab.diffusion.samplers import sample_ddim
    x = sample_ddim(model, NoiseSchedule.linear(), (16, 1, 28, 28), steps=50)
"""

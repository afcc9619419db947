"""Diffusion. Denoising diffusion: training a noise predictor, DDPM and DDIM sampling, sample
quality.
"""

TITLE = "Diffusion"
ORDER = ("ddpm",)
"""Its experiments' modules in the order the chapter teaches them."""

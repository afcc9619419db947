"""nnlab: a deep-learning lab, from backpropagation by hand to GPT and diffusion."""

__version__ = "0.1.0"

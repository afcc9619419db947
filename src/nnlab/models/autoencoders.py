"""Autoencoders: a fully-connected one of any widths, and the course's convolutional one.

Both map images in [0, 1] to a code and back (``encode``, ``decode``, ``forward``), inputs of
shape (N, H, W), (N, 1, H, W) or (N, H*W); ``forward`` returns the input's shape.

    MLPAutoencoder((784, 256, 128, 64, 2))            # seed 001 Problem 5.4
    MLPAutoencoder((784, 10), activation=None, output=None)  # linear: spans PCA's subspace
    ConvAutoencoder(28, skip=True)                    # seed 001 Problem 6.2

``MLPAutoencoder``: Linear layers with ``activation`` between them, none into or out of the
code (unless ``code_activation`` is given: a sparse autoencoder's sigmoid hidden layer); the
decoder mirrors the encoder's widths; ``output="sigmoid"`` squashes the reconstruction into
(0, 1); ``batchnorm=True`` puts a BatchNorm1d before each hidden activation (never on the
code or the output), which lets a deep one train at a larger learning rate.

``ConvAutoencoder`` is the architecture of Problem 6: encoder conv 1→4 (k3 s1 p1), ReLU,
max-pool 2, conv 4→8 (k3 s1 p1), ReLU, max-pool 2, linear 8·(H/4)² → 20, ReLU, linear
20 → latent; decoder linear latent → 20, ReLU, linear 20 → 8·(H/4)², ReLU, reshape to
8×(H/4)×(H/4), nearest upsampling ×2, conv 8→4 (k3 p1), ReLU, upsampling ×2, conv 4→1 (k3 p1),
sigmoid. On 28×28 MNIST the flattened size is 392 and the model has 16,859 parameters.
``skip=True`` adds each pooling stage's output to the decoder's tensor of the same shape just
before the matching upsampling (8×7×7 before the first, 4×14×14 before the second): the same
parameters, but a path around the 2-D code.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nnlab.models.mlp import activation as make_activation


def _flat(x: torch.Tensor, features: int) -> torch.Tensor:
    return x.reshape(len(x), features)


class MLPAutoencoder(nn.Module):
    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | None = "relu",
        output: str | None = "sigmoid",
        code_activation: str | None = None,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"autoencoder sizes must be >= 2 positive widths, got {sizes}")
        self.sizes = tuple(sizes)
        self.activation, self.output_name, self.code_activation = (
            activation,
            output,
            code_activation,
        )
        self.batchnorm = batchnorm
        self.encoder = self._stack(sizes, activation, batchnorm)
        if code_activation:
            self.encoder.append(make_activation(code_activation))
        self.decoder = self._stack(sizes[::-1], activation, batchnorm)
        self.output = make_activation(output) if output else nn.Identity()

    @staticmethod
    def _stack(sizes: Sequence[int], activation: str | None, batchnorm: bool) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:  # a hidden layer: not the code, not the output
                if batchnorm:
                    layers.append(nn.BatchNorm1d(b))
                if activation:
                    layers.append(make_activation(activation))
        return nn.Sequential(*layers)

    @property
    def latent(self) -> int:
        return self.sizes[-1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(_flat(x, self.sizes[0]))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.output(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)).reshape(x.shape)


class ConvAutoencoder(nn.Module):
    def __init__(self, image_size: int = 28, latent: int = 2, skip: bool = False) -> None:
        super().__init__()
        if image_size < 4 or image_size % 4:
            raise ValueError(
                f"the convolutional autoencoder pools twice by 2: image side must be a multiple "
                f"of 4, got {image_size}"
            )
        if latent < 1:
            raise ValueError(f"latent size must be >= 1, got {latent}")
        self.image_size, self.latent, self.skip = image_size, latent, skip
        self.grid = image_size // 4
        self.flat = 8 * self.grid * self.grid  # 392 on 28x28
        self.conv1 = nn.Conv2d(1, 4, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.enc_fc = nn.Sequential(nn.Linear(self.flat, 20), nn.ReLU(), nn.Linear(20, latent))
        self.dec_fc = nn.Sequential(
            nn.Linear(latent, 20), nn.ReLU(), nn.Linear(20, self.flat), nn.ReLU()
        )
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.deconv1 = nn.Conv2d(8, 4, 3, padding=1)
        self.deconv2 = nn.Conv2d(4, 1, 3, padding=1)
        self.relu = nn.ReLU()

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(code, first pooling's output, second pooling's output)."""
        x = x.reshape(len(x), 1, self.image_size, self.image_size)
        p1 = self.pool(self.relu(self.conv1(x)))
        p2 = self.pool(self.relu(self.conv2(p1)))
        return self.enc_fc(p2.flatten(1)), p1, p2

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._features(x)[0]

    def decode(
        self,
        z: torch.Tensor,
        skips: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Images (N, 1, H, W) from codes; ``skips`` are the pooling outputs a skip model adds."""
        h = self.dec_fc(z).reshape(len(z), 8, self.grid, self.grid)
        if skips is not None:
            h = h + skips[1]
        h = self.relu(self.deconv1(self.up(h)))
        if skips is not None:
            h = h + skips[0]
        return torch.sigmoid(self.deconv2(self.up(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, p1, p2 = self._features(x)
        out = self.decode(z, (p1, p2) if self.skip else None)
        return out.reshape(x.shape)


class ConvEncoderDecoder(nn.Module):
    """An image-to-image convolutional autoencoder: ``in_channels`` → ``out_channels`` at the
    same size, for inpainting (masked image and mask in, image out) and colourisation (grey
    in, chroma out). Encoder: per width in ``channels``, conv k3 p1 + ReLU, then conv k3 s2
    p1 + ReLU (halves the side); decoder: per width in reverse, nearest upsampling ×2, conv k3
    p1 + ReLU; then conv k3 p1 to ``out_channels`` and ``output`` ("sigmoid" or None). No skip
    connections: everything passes through the coarsest grid. The side must be a multiple of
    2 ** len(channels).

        ConvEncoderDecoder(2, 1, (16, 32))        # 28×28 → 7×7×32 → 28×28
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        channels: Sequence[int] = (16, 32),
        output: str | None = "sigmoid",
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1 or in_channels < 1 or out_channels < 1:
            raise ValueError(f"channels must be positive widths, got {channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.channels, self.output_name = tuple(channels), output
        down: list[nn.Module] = []
        width = in_channels
        for c in channels:
            down += [nn.Conv2d(width, c, 3, padding=1), nn.ReLU()]
            down += [nn.Conv2d(c, c, 3, stride=2, padding=1), nn.ReLU()]
            width = c
        up: list[nn.Module] = []
        for c in reversed(channels):
            up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, c, 3, padding=1)]
            up += [nn.ReLU()]
            width = c
        up.append(nn.Conv2d(width, out_channels, 3, padding=1))
        if output:
            up.append(make_activation(output))
        self.encoder, self.decoder = nn.Sequential(*down), nn.Sequential(*up)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        factor = 2 ** len(self.channels)
        if x.ndim != 4 or x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"ConvEncoderDecoder needs (N, C, H, W) with H and W multiples of {factor}, "
                f"got {tuple(x.shape)}"
            )
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def autoencoder_state(model: MLPAutoencoder | ConvAutoencoder | ConvEncoderDecoder) -> dict:
    """The model's architecture and weights as plain values and tensors, a file
    ``torch.load(path, weights_only=True)`` reads back; rebuild it with `autoencoder_from_state`."""
    if isinstance(model, ConvEncoderDecoder):
        arch = {
            "kind": "encoder-decoder",
            "in_channels": model.in_channels,
            "out_channels": model.out_channels,
            "channels": list(model.channels),
            "output": model.output_name,
        }
    elif isinstance(model, ConvAutoencoder):
        arch = {
            "kind": "conv",
            "image_size": model.image_size,
            "latent": model.latent,
            "skip": model.skip,
        }
    else:
        arch = {
            "kind": "mlp",
            "sizes": list(model.sizes),
            "activation": model.activation,
            "output": model.output_name,
            "code_activation": model.code_activation,
            "batchnorm": model.batchnorm,
        }
    return {"architecture": arch, "state_dict": model.state_dict()}


def autoencoder_from_state(
    state: dict, source: str = "the autoencoder file"
) -> MLPAutoencoder | ConvAutoencoder | ConvEncoderDecoder:
    """The model saved by `autoencoder_state`, with its weights, in eval mode; DataError naming
    `source` when the file is not one (its size checked against its weights before allocation)."""
    from nnlab.errors import DataError
    from nnlab.models.loading import build_checked

    try:
        arch = dict(state["architecture"])
        kind = arch.pop("kind")
        weights = state["state_dict"]
    except Exception:
        raise DataError(f"{source} cannot be loaded: it is not a saved nnlab autoencoder") from None
    build = {"conv": ConvAutoencoder, "encoder-decoder": ConvEncoderDecoder}.get(
        kind, MLPAutoencoder
    )
    return build_checked(lambda: build(**arch), weights, source).eval()

"""pca-vs-linear-ae: a linear autoencoder trained with squared error finds PCA's subspace
(seed 001 Problem 5.3; seed 003 ICE #4).

The data are the training images with the mean image subtracted (``nnlab.numerics.pca`` computes the
mean and the top-k principal components). The autoencoder is x → D(Ex + b) + c with E k×d,
D d×k and no non-linearity (``MLPAutoencoder((d, k), activation=None, output=None)``),
trained with Adam on the mean squared error, the learning rate decayed to 0 by a cosine.

Compared with PCA of the same k:

- **principal angles** between span(D) (the decoder's k columns: the subspace the
  reconstructions live in) and span of the top-k components; goal: all < 1°;
- **reconstruction error** on the test images, autoencoder / PCA; goal: within 1%
  (PCA's subspace is optimal on the training set, so there the ratio is ≥ 1; on the test set
  it can fall a little below 1);
- **why the bases differ**: the minimum of ||X − XEᵀDᵀ||² is reached by any D = U_k A,
  E = A⁻¹U_kᵀ with A invertible, so the autoencoder's columns are neither orthogonal nor
  ordered by variance (the summary gives their largest |cosine| and their norms). PCA of
  the autoencoder's own reconstructions turns its basis back into the ordered, orthonormal
  principal components (cosines with PCA's in the summary). The encoder's rows need not
  span the subspace at all: pixels that never vary (MNIST's border) give their weights no
  gradient, so those entries stay at their random start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

GOAL_DEGREES = 1.0
GOAL_RATIO = 1.01


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    k: int = param(10, low=1, high=784, help="latent size: principal components and code units")
    epochs: int = param(30, low=1, high=100_000)
    batch_size: int = param(256, low=1, high=1_000_000)
    lr: float = param(3e-3, low=0.0, low_open=True, help="Adam learning rate (cosine decay)")
    shown: int = param(10, low=1, high=64, help="basis images shown per row")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "k": 8, "epochs": 300, "batch_size": 128, "lr": 2e-2},
    "quick": {},
    "full": {"k": 30, "epochs": 60},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.models.autoencoders import MLPAutoencoder
    from nnlab.numerics.pca import fit_pca, principal_angles
    from nnlab.training.autoencoder import fit_autoencoder, image_errors, reconstruct
    from nnlab.viz import Line, LinePanel, image_grid, line_panels

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    side = data.x_train.shape[1]
    x_train = data.x_train.reshape(len(data.x_train), -1).astype(np.float64)
    x_test = data.x_test.reshape(len(data.x_test), -1).astype(np.float64)
    d = x_train.shape[1]
    if cfg.k >= d:
        raise ConfigError(f"setting 'k' must be below the {d} pixels of {cfg.dataset}; got {cfg.k}")
    pca = fit_pca(x_train, cfg.k)
    mean = pca.mean.astype(np.float32)
    train_t = torch.as_tensor(x_train - mean, dtype=torch.float32, device=run.device)
    test_t = torch.as_tensor(x_test - mean, dtype=torch.float32, device=run.device)

    model = MLPAutoencoder((d, cfg.k), activation=None, output=None).to(run.device)
    bar = run.bar(total=cfg.epochs, desc=f"linear AE k={cfg.k}", unit="epoch")
    fit_autoencoder(
        model,
        train_t,
        test_t,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        schedule="cosine",
        seed=run.seed,
        on_epoch=lambda epoch, m: (run.log(epoch, **m), bar.update(1)),
    )
    bar.close()

    decoder = model.decoder[0].weight.detach().cpu().double().numpy()  # (d, k)
    angles = principal_angles(pca.components.T, decoder)
    ae_test = float(image_errors(reconstruct(model, test_t), test_t).mean())
    ae_recon_train = reconstruct(model, train_t).double().cpu().numpy()
    ae_train = float(np.mean((ae_recon_train - (x_train - mean)) ** 2))
    pca_test = float(np.mean((pca.reconstruct(x_test) - x_test) ** 2))
    pca_train = float(np.mean((pca.reconstruct(x_train) - x_train) ** 2))
    columns = decoder / np.linalg.norm(decoder, axis=0)
    gram = np.abs(columns.T @ columns)
    max_cos = float((gram - np.eye(cfg.k)).max()) if cfg.k > 1 else 0.0
    # the autoencoder's basis made orthonormal and ordered: PCA of its reconstructions
    recovered = fit_pca(ae_recon_train, cfg.k).components
    cosines = np.abs((recovered * pca.components).sum(axis=1))
    encoder_angles = principal_angles(pca.components.T, model.encoder[0].weight.detach().T)

    n = min(cfg.shown, cfg.k)

    def tiles(vectors: np.ndarray) -> np.ndarray:
        return vectors[:n].reshape(n, side, side)

    basis = np.concatenate([tiles(pca.components), tiles(columns.T), tiles(recovered)])
    titles = (
        [f"PC {i + 1}" for i in range(n)]
        + [f"AE col {i + 1}\n|d|={np.linalg.norm(decoder[:, i]):.2f}" for i in range(n)]
        + [f"cos {cosines[i]:.3f}" for i in range(n)]
    )
    run.figure(
        "bases",
        image_grid(
            basis,
            ncols=n,
            titles=titles,
            title="Top: principal components. Middle: the linear AE's decoder columns. "
            "Bottom: PCA of the AE's reconstructions",
        ),
        f"Rows: the first {n} of PCA's {cfg.k} components (orthonormal, by variance); the "
        f"autoencoder's decoder columns, each scaled to unit length for display (their norms "
        f"above them; largest |cosine| between two columns {max_cos:.2f}): the same "
        "subspace, but mixed, not orthogonal, not ordered; the principal components recovered "
        "from the autoencoder alone (its reconstructions' PCA), with |cosine| to PCA's "
        "component. Each tile stretched to its own range (grey ≈ 0).",
    )
    history = run.history()
    epochs = [h["step"] for h in history]
    run.figure(
        "angles_and_error",
        line_panels(
            [
                LinePanel(
                    [Line(range(1, cfg.k + 1), angles, "linear AE decoder vs PCA", "o-")],
                    f"Principal angles (max {angles.max():.3f}°)",
                    "angle (degrees)",
                    reference=(GOAL_DEGREES, "goal: < 1°"),
                    integer_x=True,
                    xlabel="principal angle index (ascending)",
                    ylim=(0.0, max(1.2 * GOAL_DEGREES, 1.1 * float(angles.max()))),
                ),
                LinePanel(
                    [
                        Line(epochs, [h["train_loss"] for h in history], "AE training", "-"),
                        Line(epochs, [h["test_loss"] for h in history], "AE test", "-"),
                        Line(epochs, [pca_test] * len(epochs), f"PCA-{cfg.k} test", "--"),
                    ],
                    f"Reconstruction error (AE/PCA test {ae_test / pca_test:.5f})",
                    "mean squared error per pixel",
                    log=True,
                ),
            ],
            title=f"Linear autoencoder vs PCA, k = {cfg.k}, on {data.name}",
        ),
        "Left: the principal angles between the decoder's column space and the span of the "
        "top-k principal components after training (0° = a shared direction), against the "
        "1° goal. Right: the autoencoder's mean squared error per pixel per epoch against "
        "PCA's (the optimum on the training set).",
    )
    return {
        "dataset": cfg.dataset,
        "k": cfg.k,
        "principal_angles_degrees": [float(a) for a in angles],
        "max_principal_angle_degrees": float(angles.max()),
        "all_angles_below_1_degree": bool(angles.max() < GOAL_DEGREES),
        "ae_test_mse": ae_test,
        "pca_test_mse": pca_test,
        "mse_ratio_test": ae_test / pca_test,
        "ae_train_mse": ae_train,
        "pca_train_mse": pca_train,
        "mse_ratio_train": ae_train / pca_train,
        "within_1_percent": bool(abs(ae_test / pca_test - 1) <= GOAL_RATIO - 1),
        "decoder_max_abs_cosine": max_cos,
        "decoder_column_norms": [float(v) for v in np.linalg.norm(decoder, axis=0)],
        "recovered_component_cosines": [float(c) for c in cosines],
        "encoder_max_principal_angle_degrees": float(encoder_angles.max()),
        "pca_explained_variance": float(pca.variances.sum() / x_train.var(axis=0).sum()),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)

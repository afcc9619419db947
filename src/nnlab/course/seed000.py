"""The items of seed 000: COSC179 coding assignment III (see `nnlab.course.catalog`)."""

from __future__ import annotations

from nnlab.course import Item

MNIST = {"dataset": "mnist"}

ITEMS: tuple[Item, ...] = (
    Item(
        "000",
        "3A",
        "Sparse autoencoder: 25 sigmoid units on 10,000 8x8 natural-image patches, L-BFGS",
        experiment="sparse-autoencoder",
        answer="cost {cost_initial:.2f} untrained → {cost_final:.3f} trained on {dataset} "
        "(beside the seed's 48.85 → 0.481: {seed_costs_note}); "
        "{edge_fraction_trained:.0%} of the 25 filters are edges; mean activation "
        "{mean_activation:.4f} (ρ = {rho}); gradient check relative difference "
        "{gradcheck_relative_difference:.1e}",
        document="cost 48.85 untrained → 0.481 trained; edge detectors at various orientations; "
        "gradient check with ε = 1e-4",
        also=(
            "nnlab data fetch ufldl-images && nnlab run sparse-autoencoder --preset full "
            "(the exercise's own 10 whitened images; quick uses scikit-image's)",
        ),
    ),
    Item(
        "000",
        "3B",
        "Character GPT (nanoGPT) on Tiny Shakespeare: 256 context, 384 wide, 6 blocks, 6 heads",
        experiment="char-gpt",
        preset="full",
        settings={"corpus": "tinyshakespeare"},
        answer="best validation loss {best_val_loss:.4f} after {iters} steps; {parameters:,} "
        "parameters ({parameters_without_position:,} without the position embedding)",
        document="10,690,625 parameters; dropout 0.2, learning rate 1e-3",
        also=(
            "nnlab count-params (10,690,625: the lecture's convention, without the position "
            "embedding)",
            "nnlab generate RUN_DIR --prompt ROMEO:",
        ),
    ),
    Item(
        "000",
        "3C",
        "Denoising diffusion (DDPM) on MNIST: linear schedule, time embedding, U-Net, sampling",
        experiment="ddpm",
        preset="full",
        settings=MNIST,
        answer="loss {epoch_losses[0]:.4f} after epoch 1, {epoch2_loss:.4f} after epoch 2 (the "
        "seed's 0.0372 at the same epoch), {final_epoch_loss:.4f} after the last (epoch 10, as "
        "the seed); Fréchet distance of the samples {frechet:.1f}",
        document="loss 0.0795 → 0.0372 over the first two epochs; semi-recognisable digits "
        "after 10 epochs",
        also=("nnlab sample RUN_DIR --sampler ddpm",),
    ),
)

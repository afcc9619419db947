"""Autoencoders. Codes learned without labels: MLP and convolutional autoencoders, corruption and
denoising, PCA against linear and deep autoencoders, sparsity.
"""

TITLE = "Autoencoders"
ORDER = (
    "mlp_autoencoder",
    "conv_autoencoder",
    "corruption_2d",
    "pca_vs_linear_ae",
    "deep_ae_vs_pca",
    "sparse_denoising",
    "ae_identity",
    "inpainting",
    "colourisation",
    "autoencoder_study",
)
"""Its experiments' modules in the order the chapter teaches them."""

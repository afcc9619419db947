"""The items of seed 001: CPSC 663 exercise II (see `nnlab.course.catalog`)."""

from __future__ import annotations

from nnlab.course import Item

MNIST = {"dataset": "mnist"}

ITEMS: tuple[Item, ...] = (
    Item(
        "001",
        "P1.1",
        "Geometric interpretation of gradient descent in one dimension",
        experiment="gradient-descent-1d",
        answer="each step follows the tangent downhill; the error shrinks by |1 − ηL| a step: "
        "{quadratic[small][predicted_contraction]:.1f}, "
        "{quadratic[good][predicted_contraction]:.1f}, "
        "{quadratic[too large][predicted_contraction]:.1f} (oscillating) and "
        "{quadratic[divergent][predicted_contraction]:.1f} (diverging) for ηL = 0.2, 0.8, 1.6, "
        "2.1; measured within {max_contraction_deviation:.0e} of |1 − ηL|",
    ),
    Item(
        "001",
        "P1.2",
        "Online learning (batch 1) against mini-batches of 20: one advantage, one disadvantage",
        experiment="online-vs-minibatch",
        answer="after one epoch the training loss is {loss_after_one_epoch[online (B = 1)]:.3f} "
        "online vs {loss_after_one_epoch[mini-batch (B = 20)]:.3f} with B = 20 (more updates); "
        "a one-example gradient has {variance_ratio_online_vs_minibatch:.1f}x the variance "
        "(1/B predicts 20; log-log slope {variance_loglog_slope:.2f})",
    ),
    Item(
        "001",
        "P2.1",
        "Backpropagation with one neuron's sigmoid replaced by another f",
        experiment="fundamentals",
        answer="use f' in that neuron's δ; gradient-checked, max error "
        "{modified_neuron_max_error:.1e}",
    ),
    Item(
        "001",
        "P2.2",
        "Softmax with the log-likelihood cost: show δ = a − y",
        experiment="fundamentals",
        answer="max |δ − (a − y)| = {softmax_delta_error:.1e}",
    ),
    Item(
        "001",
        "P2.3",
        "Backpropagation with linear neurons σ(z) = z",
        experiment="fundamentals",
        answer="σ' = 1 in every δ: error {linear_backprop_error:.1e}; the whole network is one "
        "linear map (error {linear_collapse_error:.1e})",
    ),
    Item(
        "001",
        "P3.1",
        "Which cross-entropy form: −[y ln a + (1−y) ln(1−a)] or −[a ln y + (1−a) ln(1−y)]?",
        experiment="fundamentals",
        answer="the first stays finite at y = 0 or 1 (largest {correct_ce_max_at_y01:.2f}); "
        "the reversed form is infinite there: {reversed_ce_infinite_at_y01}",
    ),
    Item(
        "001",
        "P3.2",
        "Cross-entropy is minimised at σ(z) = y, with value −[y ln y + (1−y) ln(1−y)]",
        experiment="fundamentals",
        answer="argmin a = y within {ce_argmin_error:.1e}; the minimum matches the formula within "
        "{ce_minimum_error:.1e}",
    ),
    Item(
        "001",
        "P3.3",
        "Derivatives and δ of every layer of the Figure 1 network, cross-entropy, first step",
        experiment="backprop-by-hand",
        answer="δ output {delta_output[o1]:.4f}, {delta_output[o2]:.4f}; δ hidden "
        "{delta_hidden[h1]:.4f}, {delta_hidden[h2]:.4f}; cost {cost_before:.4f} → "
        "{cost_after:.4f} after one step; every gradient within {max_grad_error:.0e} of its "
        "numerical estimate",
        gap="Figure 1's weights are an image, not in the text: nnlab starts from Mazur's "
        "example; --set w1=... b1=... x1=... t1=... enter the figure's values",
    ),
    Item(
        "001",
        "P4.1",
        "Output size of a 50x50 input: conv (a) k4 s1 p1, (b) k8 s5 p0; pool (c) k10 s2 p2, "
        "(d) k2 s1 p0",
        experiment="cnn-mnist",
        answer="(a) {problem_4_1[a][0]}x{problem_4_1[a][1]}, (b) {problem_4_1[b][0]}x"
        "{problem_4_1[b][1]}, (c) {problem_4_1[c][0]}x{problem_4_1[c][1]}, (d) "
        "{problem_4_1[d][0]}x{problem_4_1[d][1]}",
        also=(
            "nnlab conv-shape 50x50 conv:k=4,s=1,p=1 (and conv:k=8,s=5,p=0, pool:k=10,s=2,p=2, "
            "pool:k=2,s=1,p=0)",
        ),
    ),
    Item(
        "001",
        "P4.2",
        "Train the CNN 5 epochs on MNIST: the 40 first-layer filters and the confusion matrix",
        experiment="cnn-mnist",
        settings=MNIST,
        answer="test accuracy {test_accuracy:.2%} after {epochs} epochs; most confused: true "
        "{most_confused[0][true]} read as {most_confused[0][predicted]} ({most_confused[0][count]} "
        "times); {first_layer_filters[0]} first-layer filters drawn",
    ),
    Item(
        "001",
        "P5.1",
        "Design choices that stop an autoencoder learning the identity",
        experiment="ae-identity",
        settings=MNIST,
        answer="share of unseen noise's variance reconstructed: over-complete "
        "{open_noise_explained:.0%} (it copies), bottleneck {bottleneck_noise_explained:.0%}, "
        "L1-sparse {sparse_noise_explained:.0%}, denoising {denoise_noise_explained:.0%}; noise "
        "MSE {open_noise_mse:.4f} vs {bottleneck_noise_mse:.4f}, {sparse_noise_mse:.4f}, "
        "{denoise_noise_mse:.4f} (digits {open_digits_mse:.4f} vs {bottleneck_digits_mse:.4f}, "
        "{sparse_digits_mse:.4f}, {denoise_digits_mse:.4f})",
        also=(
            "nnlab run sparse-denoising (L1, KL and noise on sigmoid codes)",
            "nnlab run mlp-autoencoder (a 2-D bottleneck)",
        ),
    ),
    Item(
        "001",
        "P5.2",
        "A corruption process C(x̃|x) on a 2-D dataset, its formula and plot",
        experiment="corruption-2d",
        answer="{corruption_formula}; mean distance to the curve {mean_distance_corrupted:.3f} "
        "corrupted → {mean_distance_denoised:.4f} after the denoising autoencoder",
    ),
    Item(
        "001",
        "P5.3",
        "The similarity between PCA and a linear autoencoder",
        experiment="pca-vs-linear-ae",
        settings=MNIST,
        answer="k = {k}: largest principal angle between the two subspaces "
        "{max_principal_angle_degrees:.2f}°; test MSE autoencoder / PCA {mse_ratio_test:.4f}",
    ),
    Item(
        "001",
        "P5.4",
        "An MNIST autoencoder with a 2-D code (mnist_ae.pt): reconstructions, codes by label",
        experiment="mlp-autoencoder",
        settings=MNIST,
        answer="{architecture}: test MSE {test_mse:.4f}; 2-D codes: kNN accuracy "
        "{knn_accuracy:.1%}, silhouette {silhouette:.2f}; saved {model_file}",
    ),
    Item(
        "001",
        "P6.1",
        "The convolutional autoencoder (mnist_cae.pt): reconstructions and 2-D codes",
        experiment="conv-autoencoder",
        settings={"dataset": "mnist", "skip": False, "noise_std": 0.0},
        answer="test MSE {test_mse:.4f}; 2-D codes: kNN accuracy {knn_accuracy:.1%}, "
        "silhouette {silhouette:.2f}; saved {model_file}",
    ),
    Item(
        "001",
        "P6.2",
        "Skip connections from each pooling layer to its upsampling layer (mnist-cae-skip.pt)",
        experiment="conv-autoencoder",
        settings={"dataset": "mnist", "skip": True, "noise_std": 0.0},
        answer="test MSE {test_mse:.4f}; 2-D codes: kNN accuracy {knn_accuracy:.1%}, "
        "silhouette {silhouette:.2f}; saved {model_file}",
        also=("nnlab run autoencoder-study (plain, skip and denoising side by side)",),
    ),
    Item(
        "001",
        "P6.3",
        "6.1 and 6.2 again with inputs corrupted by N(0, 0.3) noise",
        experiment="autoencoder-study",
        settings=MNIST,
        answer="test MSE plain {plain_test_mse:.4f}, skip {skip_test_mse:.4f}, denoising "
        "{denoise_test_mse:.4f}, skip+denoising {skip-denoise_test_mse:.4f}; kNN accuracy of the "
        "codes {plain_knn_accuracy:.1%}, {skip_knn_accuracy:.1%}, {denoise_knn_accuracy:.1%}, "
        "{skip-denoise_knn_accuracy:.1%}",
        also=("nnlab run conv-autoencoder --set noise_std=0.3 [--set skip=true]",),
    ),
    Item(
        "001",
        "Bonus 1",
        "Where does the softmax name come from?",
        experiment="fundamentals",
        answer="a softened max: as the temperature falls from 10 to 0.01 the distance to the "
        "one-hot argmax falls from {softmax_distance_to_onehot[0]:.2f} to "
        "{softmax_distance_to_onehot[6]:.1e}",
    ),
)

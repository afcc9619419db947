"""Every question, problem and exercise of the seed documents, in each document's own order
and numbering, with the run that answers it (see `nnlab.course.Item` for the fields and
`nnlab.course` for how a run is matched). `tests/test_course.py` checks this list against the
numbered items it finds in `../shared/seeds/`.

Answers are `str.format` templates over the run's summary.json; `{{` and `}}` are braces.
"""

from __future__ import annotations

from nnlab.course import Item

MNIST = {"dataset": "mnist"}
SCRATCH = "src/nnlab/scratch/"

ITEMS: tuple[Item, ...] = (
    # ---- seed 000: COSC179 coding assignment III --------------------------------------------
    Item(
        "000",
        "3A",
        "Sparse autoencoder: 25 sigmoid units on 10,000 8x8 natural-image patches, L-BFGS",
        experiment="sparse-autoencoder",
        answer="cost {cost_initial:.2f} untrained → {cost_final:.3f} trained on {dataset}; "
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
        answer="loss {epoch_losses[0]:.4f} after epoch 1, {epoch_losses[1]:.4f} after epoch 2, "
        "{final_epoch_loss:.4f} after the last; Fréchet distance of the samples {frechet:.1f}",
        document="loss 0.0795 → 0.0372 over the first two epochs; semi-recognisable digits "
        "after 10 epochs",
        also=("nnlab sample RUN_DIR --sampler ddpm",),
        gap="the seed trains 10 epochs, the presets 5 (quick) and 20 (full): add "
        "--set epochs=10 for the seed's length",
    ),
    # ---- seed 001: CPSC 663 exercise II -----------------------------------------------------
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
        experiment="sparse-denoising",
        settings=MNIST,
        answer="best test MSE plain {plain_best_test_mse:.4f}, L1-sparse {l1_best_test_mse:.4f}, "
        "KL-sparse {kl_best_test_mse:.4f}, denoising {denoise_best_test_mse:.4f}; near-zero "
        "activations {plain_near_zero_fraction:.0%} plain vs {kl_near_zero_fraction:.0%} KL",
        also=("nnlab run mlp-autoencoder (a 2-D bottleneck)",),
        gap="no run shows an unconstrained over-complete autoencoder copying its input (noise "
        "included) beside the constrained ones",
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
    # ---- seed 002: MLDS HW1 report ----------------------------------------------------------
    Item(
        "002",
        "1-1",
        "Simulating a function: deep and shallow networks of equal parameters on 1-D functions",
        written="1-1 Simulating a Function",
        experiment="function-fit",
        answer="{budget}-parameter networks; mean unexplained variance "
        "{mean_unexplained_variance:.3f}; best depth per function {best_depth}",
        document="sin(x) + 0.5x and cos(x) + 0.5x²: both models fit, the loss flattens within a "
        "few epochs",
        gap="the seed's 31-parameter 1-10-1 net is not a preset (--set budget=N sets the "
        "parameter budget)",
    ),
    Item(
        "002",
        "1-1",
        "Train on actual tasks: deeper-narrower vs shallower-wider networks on MNIST",
        written="1-1 Train on Actual Tasks",
        experiment="deep-vs-shallow",
        settings=MNIST,
        answer="test accuracy by network {test_accuracy}; parameters {parameters}",
        document="both models learn; the wider one starts higher and converges to a similar loss",
    ),
    Item(
        "002",
        "1-2",
        "Visualize the optimization process: PCA of the weights of 8 trainings every 3 epochs",
        written="1-2 Visualize the Optimization Process",
        experiment="weight-trajectory",
        settings=MNIST,
        answer="{runs} trainings; two components explain {explained_variance_first_layer[0]:.2f}"
        " + {explained_variance_first_layer[1]:.2f} (first layer) and "
        "{explained_variance_whole_model[0]:.2f} + {explained_variance_whole_model[1]:.2f} "
        "(whole model) of the variance; final test accuracy {mean_final_test_accuracy:.1%}",
        gap="the seed trained a 1-D regression (sin(x) + 0.5x); weight-trajectory trains on images",
    ),
    Item(
        "002",
        "1-2",
        "Observe the gradient norm during training",
        written="1-2 Observe Gradient Norm During Training",
        experiment="grad-norm",
        settings=MNIST,
        answer="gradient norm {first_grad_norm:.3f} at the start, at most {max_grad_norm:.3f}, "
        "{mean_grad_norm_last_10pct:.3f} over the last 10%; loss {first_loss:.3f} → "
        "{mean_loss_last_10pct:.3f}",
        document="the loss falls to a low value; the gradient norm decreases and stabilises",
    ),
    Item(
        "002",
        "1-2",
        "What happens when the gradient is almost zero: loss against minimal ratio",
        written="1-2 What Happens When Gradient is Almost Zero",
        experiment="minimal-ratio",
        answer="{runs} points with ‖∇L‖ ≤ {grad_norm_max:.1e}: minimal ratio "
        "{minimal_ratio_min:.2f}–{minimal_ratio_max:.2f}, loss at most {loss_max:.3f}",
        document="loss 0.3–0.55 and minimal ratio 0.06–0.12 (the write-up counted near-zero "
        "weights, not positive Hessian eigenvalues)",
    ),
    Item(
        "002",
        "1-3",
        "Can a network fit random labels?",
        written="1-3 Can Network Fit Random Labels",
        experiment="random-labels",
        settings=MNIST,
        answer="training accuracy on shuffled labels {random_train_accuracy:.1%} after "
        "{epochs_to_fit_random} epochs ({epoch_ratio_random_over_true:.1f}x the true labels'); "
        "test {random_test_accuracy:.1%} (chance {chance:.0%})",
    ),
    Item(
        "002",
        "1-3",
        "Number of parameters vs generalization",
        written="1-3 Number of Parameters vs Generalization",
        experiment="params-vs-generalization",
        settings=MNIST,
        answer="best test accuracy {best_test_accuracy:.2%} at {best_test_parameters:,} "
        "parameters; the largest model: train {largest_train_accuracy:.2%}, test "
        "{largest_test_accuracy:.2%}",
        document="more parameters: better training performance, not necessarily better "
        "generalization",
    ),
    Item(
        "002",
        "1-3",
        "Flatness vs generalization, part 1: interpolate between batch-64 and batch-1024 minima",
        written="1-3 Flatness vs Generalization — Part 1",
        experiment="flatness-interpolation",
        settings=MNIST,
        answer="test accuracy batch 64 {small_batch_test_accuracy:.2%}, batch 1024 "
        "{large_batch_test_accuracy:.2%}; training-loss barrier on θ(α) "
        "{train_loss_barrier:.3f}; lowest test loss at α = {alpha_of_min_test_loss}",
        document="U-shaped loss with its minimum near α ≈ 0.1 (batch 64 lr 1e-3 vs batch 1024 "
        "lr 1e-2, 5 epochs, Adam)",
    ),
    Item(
        "002",
        "1-3",
        "Flatness vs generalization, part 2: sensitivity against batch size",
        written="1-3 Flatness vs Generalization — Part 2",
        experiment="sensitivity",
        settings=MNIST,
        answer="batch sizes {batch_sizes}: test accuracy {test_accuracy}; Spearman ρ against "
        "batch size: sensitivity ‖∂softmax/∂x‖ {spearman_jacobian_norm_vs_batch_size:.2f}, "
        "sharpness {spearman_sharpness_vs_batch_size:.2f}",
        document="sensitivity decreases as the batch size grows; larger batches generalise worse",
    ),
    # ---- seed 003: EEP 596 lecture 2 --------------------------------------------------------
    Item(
        "003",
        "",
        "Motivation, applications and history of deep learning",
        written="Applications of Deep Learning",
        reason="narrative slides (self-driving cars to chat bots, 1965 to 2022): nothing to run",
    ),
    Item(
        "003",
        "",
        "The perceptron; what can a perceptron represent (OR, AND)?",
        written="Perceptron",
        experiment="perceptron",
        answer="OR converges in {or[epochs_to_converge]} epochs, AND in "
        "{and[epochs_to_converge]}; XOR never does ({xor_min_mistakes_per_epoch} or more "
        "mistakes every epoch)",
    ),
    Item(
        "003",
        "",
        "Logistic regression, and learning XOR with a 2-layer network",
        written="Learning XOR",
        experiment="xor",
        answer="hand-set step network {hand_set_accuracy:.0%}; logistic regression "
        "{logreg_accuracy:.0%} (no line beats {max_linear_accuracy:.0%}); trained "
        "{trained_network} {trained_network_accuracy:.0%} after {trained_network_epochs_to_100} "
        "epochs",
    ),
    Item(
        "003",
        "ICE #1",
        "Which methods can learn the XOR function?",
        experiment="who-learns-xor",
        answer="{models_that_learn_xor} of 7 models learn XOR; naive Bayes (the slide's '?') "
        "learns it: {naive_bayes_learns_xor}; the slide's ✓/✗ agree: {lecture_agrees}",
        document="logistic regression ✗, naive Bayes ?, decision trees ✓, linear SVM ✗",
    ),
    Item(
        "003",
        "",
        "Activation functions: sigmoid, tanh, ReLU, softplus; saturation and dying ReLUs",
        written="Choices for Non-Linear Activation Function",
        experiment="fundamentals",
        answer="gradient reaching layer 1 of 20: sigmoid {grad_norm_layer1_sigmoid[19]:.1e}, "
        "tanh {grad_norm_layer1_tanh[19]:.1e}, ReLU {grad_norm_layer1_relu[19]:.2f}; dead "
        "ReLUs {dead_relu_fraction_good_lr:.0%} at η = 0.1, {dead_relu_fraction_large_lr:.0%} "
        "at η = 1",
        gap="'sigmoid is not zero-centred' (the zig-zag of updates) is not demonstrated",
    ),
    Item(
        "003",
        "",
        "Tensorflow Playground demo",
        written="Tensorflow Playground Demo",
        command="nnlab playground --open (needs the web extra)",
    ),
    Item(
        "003",
        "",
        "What CNN units detect (Zeiler & Fergus 2013)",
        written="[Zeiler & Fergus '13]",
        experiment="cnn-units",
        settings=MNIST,
        answer="top-activating patches of {channels} channels; activation-maximising inputs "
        "classified as their target {maximised_predicted_as_target} of 10 times (mean "
        "probability {mean_maximised_probability:.2f})",
    ),
    Item(
        "003",
        "ICE #2",
        "Parameters of a 100x100-input, 3x1000-hidden, 10-output network",
        experiment="fundamentals",
        answer="{mlp_parameters:,} parameters (per layer {mlp_parameters_per_layer}): "
        "option ③, 12 million",
        document="① 10, ② 11, ③ 12 or ④ 13 million",
    ),
    Item(
        "003",
        "",
        "Training a DNN: mini-batch SGD, Adagrad, Adam",
        written="Training a DNN",
        experiment="optimizers",
        answer="test accuracy on {dataset} from the same initial weights: SGD "
        "{test_accuracy_sgd:.1%}, momentum {test_accuracy_momentum:.1%}, Adagrad "
        "{test_accuracy_adagrad:.1%}, RMSprop {test_accuracy_rmsprop:.1%}, Adam "
        "{test_accuracy_adam:.1%}",
    ),
    Item(
        "003",
        "",
        "Back-propagation",
        written="Back Propagation explained",
        experiment="backprop-by-hand",
        answer="every gradient of a 2-2-2 sigmoid network within {max_grad_error:.0e} of its "
        "numerical estimate; cost {cost_before:.4f} → {cost_after:.4f} after one step",
    ),
    Item(
        "003",
        "",
        "Good vs bad local minima",
        written="Good vs Bad Local minima",
        experiment="gradient-descent-1d",
        answer="a quartic with minima at {quartic_minima[0]:.3f} and {quartic_minima[1]:.3f}: "
        "gradient descent ends in either, depending on the start and step",
        gap="a 1-D quartic only",
    ),
    Item(
        "003",
        "ICE #3",
        "Which of the following is not a hyper-parameter?",
        document="① learning rate, ② hidden layers, ③ neurons per layer, ④ all of the above",
        reason="a quiz: every option is a hyper-parameter (the next slide lists them); nnlab run "
        "hparam-search tunes learning rate, width, dropout and batch size",
    ),
    Item(
        "003",
        "",
        "Hyper-parameter tuning: grid, random and Bayesian search",
        written="Hyper-parameter tuning methods",
        experiment="hparam-search",
        answer="best validation accuracy on {dataset}: grid {best_val_accuracy_grid:.1%}, "
        "random {best_val_accuracy_random:.1%}, TPE {best_val_accuracy_tpe:.1%} ({budget} trials "
        "each)",
    ),
    Item(
        "003",
        "",
        "Over-fitting: l1/l2 weight regularization, dropout, early stopping",
        written="Over-fitting in DNNs",
        experiment="regularization",
        answer="test accuracy on {dataset}: none {test_accuracy_none:.1%}, best {best_method} "
        "{best_test_accuracy:.1%}; train-test gap {gap_none:.3f} → {smallest_gap:.3f} "
        "({smallest_gap_method})",
    ),
    Item(
        "003",
        "ICE #4",
        "PCA vs autoencoder: which statements are true?",
        experiment="pca-vs-linear-ae",
        settings=MNIST,
        answer="statements 1-2: a linear autoencoder spans PCA's subspace (largest angle "
        "{max_principal_angle_degrees:.2f}°, test MSE ratio {mse_ratio_test:.4f})",
        gap="statements 3-4 (robustness to outliers, GloVe embeddings) are not measured",
    ),
    Item(
        "003",
        "",
        "Autoencoders for dimensionality reduction (Hinton & Salakhutdinov 2006, Fig. 3)",
        written="AutoEncoders and Dimensionality Reduction",
        experiment="deep-ae-vs-pca",
        settings=MNIST,
        answer="2-D codes: kNN accuracy autoencoder {ae2_knn_accuracy:.1%} vs PCA "
        "{pca2_knn_accuracy:.1%}; squared error per image {ae_squared_error_per_image:.2f} vs "
        "PCA {pca_squared_error_per_image:.2f}",
        document="the paper's 30-d codes: squared error 3.00 (autoencoder) vs 13.87 (PCA)",
    ),
    Item(
        "003",
        "",
        "Document retrieval with autoencoder codes (Hinton & Salakhutdinov 2006, Fig. 4)",
        written="Fig. 4. (A) The fraction of retrieved documents",
        reason="needs the Reuters RCV1 corpus (402,207 documents) and a word-count document "
        "model; nnlab has neither",
    ),
    Item(
        "003",
        "",
        "Autoencoders that remove obstacles from images (inpainting)",
        written="Removing obstacles in images",
        reason="no inpainting experiment; corruption-2d's masking corruption (--set "
        "corruption=mask) is the nearest, on 2-D points",
    ),
    Item(
        "003",
        "",
        "Autoencoders that colour grey images",
        written="Coloring Images",
        reason="no colourisation experiment and no colour image set offline",
    ),
    Item(
        "003",
        "",
        "De-noising autoencoders: noisy input, clean target",
        written="De-noising Auto Encoders",
        experiment="conv-autoencoder",
        settings={"dataset": "mnist", "noise_std": 0.3},
        answer="test MSE against the clean images {test_mse:.4f} (against the noisy input "
        "{test_mse_vs_input:.4f})",
    ),
    Item(
        "003",
        "ICE #5",
        "Which of these is not an example of unsupervised learning?",
        document="① perceptron, ② autoencoder, ③ de-noising autoencoder, ④ k-means++, ⑤ none, "
        "⑥ all",
        reason="a quiz: the perceptron learns from labels (①); nothing to measure",
    ),
    Item(
        "003",
        "",
        "Breakout 1: real-world applications of autoencoders",
        written="Breakouts Time 1",
        reason="a group discussion",
    ),
    Item(
        "003",
        "",
        "Sequence structure in NLP: sentiment needs context carried over time",
        written="Sequence structure in NLP",
        reason="no sentiment experiment and no sentiment data here (a labelled corpus such as "
        "SST-2 or IMDb would be needed); char-lstm carries state over characters",
    ),
    Item(
        "003",
        "",
        "Sequence-to-sequence models (LSTM)",
        written="Sequence to Sequence Model (LSTM) Applications",
        experiment="char-lstm",
        settings={"corpus": "tinyshakespeare"},
        answer="equal-size LSTM and GPT, same time: validation loss LSTM {lstm_val_loss:.3f} vs "
        "GPT {gpt_val_loss:.3f} ({lstm_parameters:,} vs {gpt_parameters:,} parameters)",
        gap="a character language model only; no encoder-decoder (seq2seq) model",
    ),
    Item(
        "003",
        "",
        "Breakout 2: design an e-mail auto-completion model",
        written="Breakouts Time #2",
        reason="a group discussion; nnlab generate RUN_DIR --prompt TEXT completes text with a "
        "trained char-gpt",
    ),
    Item(
        "003",
        "",
        "Extra slides: sparse autoencoders (best MSE simple vs L1-sparse)",
        written="Sparse Auto Encoders",
        experiment="sparse-denoising",
        settings=MNIST,
        answer="best test MSE plain {plain_best_test_mse:.4f}, L1-sparse {l1_best_test_mse:.4f}"
        ", KL-sparse {kl_best_test_mse:.4f}",
        document="simple autoencoder 0.0318, sparse (L1) 0.0301 (MNIST)",
        also=("nnlab run sparse-autoencoder (the UFLDL exercise, maximising inputs)",),
    ),
    Item(
        "003",
        "",
        "Extra slides: sparse de-noising autoencoders",
        written="Sparse De-noising Auto Encoders",
        experiment="sparse-denoising",
        preset="full",
        settings=MNIST,
        answer="best test MSE sparse+denoising {sparse-denoise_best_test_mse:.4f}, denoising "
        "{denoise_best_test_mse:.4f}",
    ),
    # ---- seed 004: CMU 16-720 homework 5 ----------------------------------------------------
    Item(
        "004",
        "Q1.1",
        "Softmax is invariant to translation; why c = −max xᵢ?",
        experiment="fundamentals",
        answer="max |softmax(x + c) − softmax(x)| = {softmax_shift_error:.0e}; at x = 1000 the "
        "naive formula is finite: {naive_softmax_finite_at_1000}; shifted: "
        "{stable_softmax_at_1000}",
    ),
    Item(
        "004",
        "Q1.2",
        "The range of softmax(xᵢ) and the sum over i",
        experiment="fundamentals",
        answer="values from {softmax_min:.0e} to {softmax_max:.6f}; sums within "
        "{softmax_sum_error:.0e} of 1",
        document="between 0 and 1; the sum is 1",
    ),
    Item(
        "004",
        "Q1.3",
        "Without non-linearities a multi-layer network is linear regression",
        experiment="fundamentals",
        answer="a stack of linear layers equals one {linear_collapse_shape} matrix within "
        "{linear_collapse_error:.0e}",
    ),
    Item(
        "004",
        "Q1.4",
        "The derivative of the sigmoid as a function of σ(x)",
        experiment="fundamentals",
        answer="σ' = σ(1 − σ) within {sigmoid_deriv_error:.0e} of finite differences",
        document="σ'(x) = [1 − σ(x)] σ(x)",
    ),
    Item(
        "004",
        "Q1.5",
        "Given y = Wx + b and ∂J/∂y: ∂J/∂W, ∂J/∂x, ∂J/∂b",
        experiment="backprop-by-hand",
        answer="every ∂J/∂w and ∂J/∂b of a 2-2-2 network within {max_grad_error:.0e} of its "
        "numerical estimate",
        document="∂J/∂W = δxᵀ, ∂J/∂x = Wᵀδ, ∂J/∂b = δ",
        gap="δxᵀ, Wᵀδ and δ for a layer are checked in the tests (nnlab.scratch), not shown by "
        "a run",
    ),
    Item(
        "004",
        "Q1.6",
        "Vanishing gradients; tanh vs sigmoid; tanh(x) = 2σ(2x) − 1",
        experiment="fundamentals",
        answer="gradient reaching layer 1 of 20: sigmoid {grad_norm_layer1_sigmoid[19]:.1e}, "
        "tanh {grad_norm_layer1_tanh[19]:.1e}, ReLU {grad_norm_layer1_relu[19]:.2f} "
        "(σ' ≤ 1/4: {sigmoid_grad_factor_per_layer:.2f} a layer measured); tanh(x) = 2σ(2x) − 1 "
        "within {tanh_identity_error:.0e}",
    ),
    Item(
        "004",
        "Q2.1.1",
        "Why not initialise with all zeros? What can such a network output?",
        experiment="fundamentals",
        answer="zero-initialised: {zero_init_distinct_hidden_units} distinct hidden unit(s), "
        "accuracy {zero_init_accuracy:.0%}; Xavier: {xavier_distinct_hidden_units} distinct, "
        "{xavier_accuracy:.0%}",
    ),
    Item(
        "004",
        "Q2.1.2",
        "Implement initialize_weights (Xavier)",
        experiment="fundamentals",
        answer="Xavier-initialised hidden units stay distinct ({xavier_distinct_hidden_units}) "
        "and learn ({xavier_accuracy:.0%})",
        also=(f"the code: {SCRATCH}layers.py (init='xavier': U(-a, a), a = √(6/(in + out)))",),
        gap="scaled and unscaled initialisation are never compared",
    ),
    Item(
        "004",
        "Q2.1.3",
        "Why random initialisation? Why scale it by layer size?",
        written="Q.2.1.3",
        experiment="fundamentals",
        answer="random breaks the symmetry: zero init leaves {zero_init_distinct_hidden_units} "
        "distinct unit(s), Xavier {xavier_distinct_hidden_units}",
        gap="scaled and unscaled initialisation are never compared",
    ),
    Item(
        "004",
        "Q2.2.1",
        "Implement sigmoid",
        experiment="fundamentals",
        answer="sigmoid's derivative within {sigmoid_deriv_error:.0e} of finite differences",
        also=(f"the code: {SCRATCH}activations.py",),
    ),
    Item(
        "004",
        "Q2.2.2",
        "Implement softmax",
        experiment="fundamentals",
        answer="shift-invariant within {softmax_shift_error:.0e}; sums to 1 within "
        "{softmax_sum_error:.0e}",
        also=(f"the code: {SCRATCH}activations.py",),
    ),
    Item(
        "004",
        "Q2.2.3",
        "Implement compute_loss_and_acc",
        written="Q.2.2.3",
        experiment="numpy-classifier",
        answer="cross-entropy and accuracy every epoch: validation loss "
        "{sweep[0][val_loss]:.3f}, accuracy {val_accuracy:.1%}",
        also=(f"the code: {SCRATCH}losses.py",),
    ),
    Item(
        "004",
        "Q2.3",
        "Implement backwards",
        experiment="backprop-by-hand",
        answer="every gradient within {max_grad_error:.0e} of its numerical estimate",
        also=(f"the code: {SCRATCH}layers.py",),
    ),
    Item(
        "004",
        "Q2.4",
        "Implement get_random_batches and the training loop",
        experiment="numpy-classifier",
        answer="mini-batches of {batch_size}, {epochs} epochs: validation accuracy "
        "{val_accuracy:.1%}",
        document="with the default settings: loss < 35 and accuracy > 75%",
        also=(f"the code: {SCRATCH}train.py",),
    ),
    Item(
        "004",
        "Q2.5",
        "Implement a numerical gradient checker",
        experiment="backprop-by-hand",
        answer="central differences agree with backprop within {max_grad_error:.0e}",
        document="the total relative error should be below 1e-4",
        also=(f"the code: {SCRATCH}gradcheck.py",),
        gap="never run on the Q3 network in an experiment",
    ),
    Item(
        "004",
        "Q3.1",
        "Train a 64-hidden-unit network from scratch, ≥ 75% validation accuracy",
        experiment="numpy-classifier",
        preset="full",
        answer="validation {val_accuracy:.1%}, test {test_accuracy:.1%} after {epochs} epochs "
        "(batch {batch_size}, lr {tuned_lr}) on {dataset}",
        document="77.4% validation, 78.3% test (600 epochs, batch 16, lr 1e-3; NIST36)",
    ),
    Item(
        "004",
        "Q3.2",
        "The tuned learning rate, 10x and 1/10 of it; the best network's test accuracy",
        experiment="numpy-classifier",
        preset="full",
        answer="validation: lr {sweep[0][lr]} {sweep[0][val_accuracy]:.1%}, lr {sweep[1][lr]} "
        "{sweep[1][val_accuracy]:.1%}, lr {sweep[2][lr]} {sweep[2][val_accuracy]:.1%}; best "
        "({best_network}) test {test_accuracy:.1%}",
        document="lr 1e-4 / 1e-3 / 1e-2: validation 75.3 / 77.4 / 75.3%, test 75.4 / 78.3 / 75.7%",
    ),
    Item(
        "004",
        "Q3.3",
        "First-layer weights at initialisation and after training",
        experiment="numpy-classifier",
        preset="full",
        answer="median relative change of the first-layer weights {weight_change_median:.2f}; "
        "{saturated_hidden_units} saturated hidden units (figures: weights before and after)",
        document="random at first; after training, patterns that resemble letters and digits",
    ),
    Item(
        "004",
        "Q3.4",
        "The test confusion matrix; the most confused pairs",
        written="Q.3.4",
        experiment="numpy-classifier",
        preset="full",
        answer="most confused: {most_confused_pairs[0][pair]} ({most_confused_pairs[0][count]}), "
        "{most_confused_pairs[1][pair]} ({most_confused_pairs[1][count]}), "
        "{most_confused_pairs[2][pair]} ({most_confused_pairs[2][count]})",
        document="(O, 0), (5, S), (2, Z)",
    ),
    Item(
        "004",
        "Q4.1",
        "Two big assumptions of the letter finder; two images where it should fail",
        experiment="ocr",
        answer="accuracy on ordinary pages {results[ordinary/reader][accuracy]:.1%}; touching "
        "letters without splitting {results[touching/no split][accuracy]:.1%}",
        document="letters of a line are aligned, separated by white space, of similar size, and "
        "like the training set",
    ),
    Item(
        "004",
        "Q4.2",
        "Implement findLetters",
        experiment="ocr",
        answer="letter boxes: precision {box_precision:.1%}, recall {box_recall:.1%}",
        also=("the code: src/nnlab/ocr/letters.py (find_letters)",),
    ),
    Item(
        "004",
        "Q4.3",
        "The located boxes drawn on each image",
        experiment="ocr",
        answer="{box_recall:.1%} of the letters boxed (figures: the boxes on every page)",
        also=("nnlab ocr IMAGE (boxes drawn on any page image)",),
        document="all characters found except the periods of 01_list.jpg",
    ),
    Item(
        "004",
        "Q4.4",
        "Read the text of the sample images",
        written="Q.4",
        experiment="ocr",
        preset="full",
        answer="character accuracy {accuracy:.1%} ({accuracy_no_whitespace:.1%} without spaces) "
        "on generated pages",
        document="81.7%, 80.6%, 92.6% and 80.5% on the four photographs (mean 83.9%)",
        gap="the seed's handwritten photographs are not here: nnlab reads generated printed "
        "pages with its own CNN; nnlab ocr --model takes an ocr or lenet run, not the Q3 "
        "numpy-classifier",
    ),
    Item(
        "004",
        "Q5.1.1",
        "Implement the 1024-32-32-32-1024 autoencoder",
        experiment="numpy-autoencoder",
        answer="{parameters:,} parameters; validation PSNR {val_psnr:.2f} dB",
    ),
    Item(
        "004",
        "Q5.1.2",
        "Implement momentum",
        experiment="numpy-autoencoder",
        answer="momentum 0.9, lr x0.9 every 20 epochs ({lr_initial:.2e} → {lr_final:.2e}); "
        "training loss {train_loss:.2f} an image",
    ),
    Item(
        "004",
        "Q5.2",
        "Train 100 epochs; the training loss curve",
        experiment="numpy-autoencoder",
        preset="full",
        answer="training loss {train_loss:.2f} an image after {epochs} epochs (figure: the curve)",
        document="the loss drops fast over the first 5 epochs, then slowly",
    ),
    Item(
        "004",
        "Q5.3.1",
        "Two validation images of 5 classes and their reconstructions",
        written="5.3.1",
        experiment="numpy-autoencoder",
        answer="reconstructions of A, B, C, 1 and 2 (first: class {examples[0][class]}, "
        "{examples[0][psnr]:.1f} dB)",
        document="blurry; some characters change (a 2 looks like a Z)",
    ),
    Item(
        "004",
        "Q5.3.2",
        "The average PSNR over the validation set",
        experiment="numpy-autoencoder",
        preset="full",
        answer="{val_psnr:.2f} dB (untrained {val_psnr_untrained:.2f} dB) on {dataset}",
        document="14.55 dB",
    ),
    Item(
        "004",
        "Q6.1.1",
        "The fully-connected network in PyTorch on NIST36: accuracy and loss curves",
        experiment="lenet",
        settings={"dataset": "chars36", "fc_hidden": [64]},
        answer="fully-connected 1024-64-36: test accuracy {fc_test_accuracy:.1%}",
        gap="the hidden layer is ReLU or tanh, not the seed's sigmoid",
    ),
    Item(
        "004",
        "Q6.1.2",
        "A CNN on NIST36 against the fully-connected network",
        experiment="lenet",
        preset="full",
        settings={"dataset": "chars36"},
        answer="test accuracy fully-connected {fc_test_accuracy:.1%} vs CNN "
        "{cnn_test_accuracy:.1%} ({fc_parameters:,} vs {cnn_parameters:,} parameters)",
        document="validation accuracy: fully-connected 77.4%, CNN 84.5%",
        gap="lenet's reference is labelled Q6.1.3 and compares test accuracy with the seed's "
        "validation figure",
    ),
    Item(
        "004",
        "Q6.1.3",
        "A CNN on CIFAR-10: training accuracy and loss",
        experiment="lenet",
        preset="full",
        settings={"dataset": "cifar10"},
        answer="test accuracy fully-connected {fc_test_accuracy:.1%} vs CNN "
        "{cnn_test_accuracy:.1%}",
        document="curves only; no accuracy stated",
        supply="CIFAR-10 (163 MB): nnlab data fetch cifar10 on a machine with a network, or "
        "put its files in a folder named by NNLAB_DATA (nnlab data list shows what is found)",
    ),
    Item(
        "004",
        "Q6.1.4",
        "A CNN for the HW1 scene classes, against HW1's result",
        experiment="image-folder",
        preset="full",
        settings={"demo": False},
        args="--set root=SUN_DIR",
        answer="validation accuracy {val_accuracy:.1%} on {images} images of {root}",
        document="45.6% test (LeNet-like CNN) vs 62% for HW1's bag of words",
        supply="the HW1 SUN scene images, one sub-folder per class (SUN_DIR/<class>/*.jpg)",
        gap="the bag-of-words baseline is not run",
    ),
    Item(
        "004",
        "Q6.2",
        "Fine-tune SqueezeNet on flowers against a CNN from scratch",
        experiment="image-folder",
        preset="full",
        settings={"demo": False, "pretrained": "squeezenet1_1"},
        args="--set root=FLOWERS_DIR",
        answer="fine-tuned validation accuracy {val_accuracy:.1%} on {images} images",
        also=("nnlab run image-folder --preset full --set root=FLOWERS_DIR (from scratch)",),
        document="skipped in the write-up",
        supply="a flowers folder (FLOWERS_DIR/<class>/*.jpg, e.g. Oxford 17 flowers) and the "
        "ImageNet SqueezeNet weights: pip install 'nnlab[vision]', weights cached under "
        "TORCH_HOME",
        gap="the scratch vs fine-tuned comparison takes two runs",
    ),
    Item(
        "004",
        "Q6.3",
        "A pretrained ImageNet network on images of one class and on a video",
        experiment="pretrained-eval",
        settings={"model": "resnet50", "demo": False},
        args="--set source=DIR_OR_VIDEO --set label=Rottweiler",
        answer="top-1 {top1_accuracy:.1%} ({top1_correct} of {images}), top-5 "
        "{top5_accuracy:.1%}; most frequent prediction {most_frequent_predictions[0][label]} "
        "({most_frequent_predictions[0][fraction]:.0%})",
        document="Rottweiler: 21 of 50 top-1 (42.0%), top-5 86.0%; video: none of 270 frames",
        supply="ResNet50's ImageNet weights (pip install 'nnlab[vision]', cached under "
        "TORCH_HOME), images of one ImageNet class, and a video (read with imageio)",
    ),
)

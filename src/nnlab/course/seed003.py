"""The items of seed 003: EEP 596 lecture 2 (see `nnlab.course.catalog`)."""

from __future__ import annotations

from nnlab.course import Item

MNIST = {"dataset": "mnist"}

ITEMS: tuple[Item, ...] = (
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
        "at η = 1; sigmoid is not zero-centred: {zigzag_same_sign_fraction_sigmoid:.0%} of a "
        "neuron's updates on sigmoid inputs move all its weights the same way (tanh inputs "
        "{zigzag_same_sign_fraction_tanh:.0%}), so reaching w* = (1, −1) zig-zags: "
        "{zigzag_steps_sigmoid} steps against {zigzag_steps_tanh}",
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
        experiment="local-minima",
        answer="{training_seeds} seeds each: the {narrow_network} network ends between "
        "{narrow_test_accuracy_range[0]:.1%} and {narrow_test_accuracy_range[1]:.1%} test "
        "accuracy ({narrow_good_fraction:.0%} within {good_margin:.0%} of its best: good and bad "
        "minima); the {wide_network} network's minima differ in loss "
        "({wide_train_loss_range[0]:.3f}–{wide_train_loss_range[1]:.3f}) but "
        "{wide_good_fraction:.0%} are equally good ({wide_test_accuracy_range[0]:.1%}–"
        "{wide_test_accuracy_range[1]:.1%})",
        also=("nnlab run gradient-descent-1d (two minima of a 1-D quartic: the start decides)",),
    ),
    Item(
        "003",
        "ICE #3",
        "Which of the following is not a hyper-parameter?",
        document="① learning rate, ② hidden layers, ③ neurons per layer, ④ all of the above",
        reasoned="none of ①-③, so not ④ either: the learning rate, the number of hidden layers "
        "and the number of neurons per layer are all hyper-parameters, chosen before training "
        "rather than learned by gradient descent as the weights and biases are (the next slides "
        "list all three, then the activation function); nnlab run hparam-search tunes four of "
        "them (learning rate, width, dropout, batch size)",
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
        reasoned="statement 3 is false (measured in the next item): PCA minimises the squared "
        "reconstruction error, so a few far-off points pull its components towards them, and an "
        "autoencoder trained on the squared error is pulled the same way. Statement 4 is false "
        "as a general claim: GloVe fits word vectors to a corpus's co-occurrence counts, and an "
        "autoencoder needs some representation of the words to start from; nothing in the "
        "lecture compares them, and nnlab has no word corpus to measure it",
    ),
    Item(
        "003",
        "ICE #4 ③",
        "PCA vs autoencoder, statement 3: is PCA robust to outliers while autoencoders are not?",
        written="- ③ PCA is robust to outliers",
        experiment="fundamentals",
        answer="false: {outlier_share:.0%} of far-off points turn PCA's first direction by "
        "{outlier_turn_pca_degrees:.1f}° and a linear autoencoder's by "
        "{outlier_turn_autoencoder_degrees:.1f}°; the two stay "
        "{pca_vs_autoencoder_degrees_outliers:.1f}° apart (both minimise the squared error)",
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
        experiment="inpainting",
        settings={"dataset": "mnist"},
        answer="squared error inside {hole_min}-{hole_max} px holes {model_hole_mse:.4f} vs "
        "{mean_image_hole_mse:.4f} filling with the mean image and {image_mean_hole_mse:.4f} "
        "with the image's own mean ({hole_mse_ratio:.2f}x the better fill)",
        gap="square holes in digits, not obstacles in photographs",
    ),
    Item(
        "003",
        "",
        "Autoencoders that colour grey images",
        written="Coloring Images",
        experiment="colourisation",
        answer="chroma (Cb, Cr) squared error on held-out patches {model_chroma_mse:.5f} vs "
        "{grey_chroma_mse:.5f} left grey and {mean_chroma_chroma_mse:.5f} for the mean tint "
        "({chroma_mse_ratio:.2f}x the better); RGB {model_rgb_mse:.4f} vs grey "
        "{grey_rgb_mse:.4f}",
        gap="four photographs (scikit-image's), not a photo collection; the slide's LAB merge "
        "model is not built",
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
        reasoned="① the perceptron: it learns from labelled examples (supervised learning, as in "
        "nnlab run perceptron on OR and AND); the autoencoder and the de-noising autoencoder "
        "reconstruct their own inputs and k-means++ groups points without labels, so all three "
        "are unsupervised; ⑤ and ⑥ are therefore wrong",
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
        "Sentiment with context: sentiment needs context carried over time",
        written="Sequence structure in NLP",
        reason="no data here (supply a labelled review corpus, such as SST-2 or IMDb); "
        "date-seq2seq measures what context carried over a sequence is worth, on generated dates",
    ),
    Item(
        "003",
        "",
        "Sequence-to-sequence models (LSTM)",
        written="Sequence to Sequence Model (LSTM) Applications",
        experiment="date-seq2seq",
        answer="dates in {formats} formats to ISO, on held-out days: exact match with attention "
        "{test_exact_attention:.1%}, without attention {test_exact_no_attention:.1%}, with the "
        "context cut {test_exact_no_context:.1%} (per character {test_char_attention:.1%}, "
        "{test_char_no_attention:.1%}, {test_char_no_context:.1%})",
        also=("nnlab run char-lstm (an LSTM language model against a GPT of the same size)",),
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
)

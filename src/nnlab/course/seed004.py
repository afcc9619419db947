"""The items of seed 004: CMU 16-720 homework 5 (see `nnlab.course.catalog`)."""

from __future__ import annotations

from nnlab.course import Item

SCRATCH = "src/nnlab/scratch/"

ITEMS: tuple[Item, ...] = (
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
        experiment="layer-gradients",
        answer="δxᵀ, Wᵀδ and δ of a {inputs} → {outputs} layer, written out for a batch of 1 "
        "and of 4, match torch autograd within {max_abs_diff:.0e}; the Jacobian ∂y/∂x is W "
        "(within {jacobian_is_W:.0e})",
        document="∂J/∂W = δxᵀ, ∂J/∂x = Wᵀδ, ∂J/∂b = δ",
        also=("nnlab run backprop-by-hand (the same rule through a 2-2-2 network)",),
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
        experiment="initialisation",
        answer="zero-initialised {depth}-layer tanh network after training: "
        "{init[tanh/zeros][distinct_first_layer_units]} distinct unit(s), "
        "{init[tanh/zeros][distinct_predictions]} class output for every image (a constant), "
        "{init[tanh/zeros][val_accuracy]:.1%} validation accuracy; Xavier "
        "{init[tanh/xavier][val_accuracy]:.1%}",
        also=("nnlab run fundamentals (zero-init symmetry of a small sigmoid network)",),
    ),
    Item(
        "004",
        "Q2.1.2",
        "Implement initialize_weights (Xavier)",
        experiment="initialisation",
        answer="Xavier-initialised tanh: last of {depth} layers' activation std "
        "{init[tanh/xavier][last_layer_activation_std]:.2f}, validation accuracy "
        "{init[tanh/xavier][val_accuracy]:.1%}; He for ReLU "
        "{init[relu/he][last_layer_activation_std]:.2f}, {init[relu/he][val_accuracy]:.1%}",
        also=(
            f"the code: {SCRATCH}layers.py (init='xavier': U(-a, a), a = √(6/(in + out))), "
            f"{SCRATCH}initialisation.py",
        ),
    ),
    Item(
        "004",
        "Q2.1.3",
        "Why random initialisation? Why scale it by layer size?",
        written="Q.2.1.3",
        experiment="initialisation",
        answer="random breaks the symmetry (zero init: "
        "{init[tanh/zeros][distinct_first_layer_units]} distinct unit); a sum of n terms has "
        "n times the variance, so over {depth} layers the last activation std is "
        "{init[relu/unit_normal][last_layer_activation_std]:.0e} with N(0, 1) (ReLU), "
        "{init[tanh/small_normal][last_layer_activation_std]:.0e} with N(0, 0.01²) (tanh), "
        "{init[tanh/xavier][last_layer_activation_std]:.2f} with Xavier; the gradient at "
        "layer 1 over the output's: {init[tanh/small_normal][gradient_ratio]:.0e} (N(0, 0.01²)) "
        "against {init[tanh/xavier][gradient_ratio]:.2f} (Xavier)",
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
        experiment="initialisation",
        answer="on the Q3 network (1024-64-36 sigmoid, {gradcheck_images} images, "
        "{gradcheck_entries} entries per tensor) the largest relative error of backprop "
        "against central differences is {gradcheck_max_error:.0e}",
        document="the total relative error should be below 1e-4",
        also=(f"the code: {SCRATCH}gradcheck.py", "nnlab run backprop-by-hand"),
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
        answer="character accuracy on the same generated pages: the CNN {accuracy:.1%} "
        "({accuracy_no_whitespace:.1%} without spaces), the learner's Q3 network (NumPy "
        "engine) {q3_accuracy:.1%} ({q3_accuracy_no_whitespace:.1%})",
        also=(
            "nnlab ocr PAGE.png --model NUMPY_CLASSIFIER_RUN_DIR (your own Q3 network reads "
            "a page)",
        ),
        document="81.7%, 80.6%, 92.6% and 80.5% on the four photographs (mean 83.9%)",
        gap="the seed's handwritten photographs are not here: nnlab reads generated printed pages",
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
        experiment="q3-torch",
        answer="1024-64-36 sigmoid in PyTorch ({parameters:,} parameters): validation "
        "{val_accuracy:.1%}, test {test_accuracy:.1%}; the NumPy engine from the same weights "
        "on the same batches {numpy_val_accuracy:.1%} / {numpy_test_accuracy:.1%}",
    ),
    Item(
        "004",
        "Q6.1.2",
        "A CNN on NIST36 against the fully-connected network",
        experiment="lenet",
        preset="full",
        settings={"dataset": "chars36"},
        answer="validation accuracy Q3 fully-connected {fc_val_accuracy:.1%} vs CNN "
        "{cnn_val_accuracy:.1%} ({fc_parameters:,} vs {cnn_parameters:,} parameters; test "
        "{fc_test_accuracy:.1%} vs {cnn_test_accuracy:.1%})",
        document="validation accuracy: fully-connected 77.4%, CNN 84.5%",
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
        experiment="fine-tuning",
        answer="nnlab's chars36 CNN (printed characters) fine-tuned on {dataset}: test accuracy "
        "{finetuned_accuracy[0]:.1%} vs {scratch_accuracy[0]:.1%} from scratch with "
        "{smallest} example(s) per class (linear probe {probe_accuracy[0]:.1%}); "
        "{finetuned_accuracy_largest:.1%} vs {scratch_accuracy_largest:.1%} with {largest}",
        also=(
            "nnlab run image-folder --preset full --set pretrained=squeezenet1_1 --set "
            "root=FLOWERS_DIR (the seed's path: needs torchvision, its weights and the images)",
        ),
        document="skipped in the write-up",
        gap="a stand-in: the seed's SqueezeNet and flowers need a flowers folder "
        "(FLOWERS_DIR/<class>/*.jpg, e.g. Oxford 17 flowers) and the ImageNet SqueezeNet "
        "weights (pip install 'nnlab[vision]', cached under TORCH_HOME)",
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
        also=(
            "nnlab run pretrained-eval --preset smoke --set demo_video=true --set label=K (a "
            "video nnlab writes, read by its own character CNN; needs PyAV)",
        ),
        supply="ResNet50's ImageNet weights (pip install 'nnlab[vision]', cached under "
        "TORCH_HOME), images of one ImageNet class, and a video (read with PyAV: pip install "
        "'nnlab[video]')",
    ),
)

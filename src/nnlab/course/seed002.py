"""The items of seed 002: MLDS HW1 report (see `nnlab.course.catalog`)."""

from __future__ import annotations

from nnlab.course import Item

MNIST = {"dataset": "mnist"}

ITEMS: tuple[Item, ...] = (
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
        also=(
            "nnlab run function-fit --set budget=31 --set functions=sin_half_x,cos_half_x2 "
            "(the seed's 31-parameter 1-10-1 network is depth 1)",
        ),
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
        settings={"function": "sin_half_x"},
        answer="{runs} trainings of sin(x) + 0.5x end at training MSE {mean_final_loss:.3f} on "
        "average; two components explain {explained_variance_first_layer[0]:.2f} + "
        "{explained_variance_first_layer[1]:.2f} (first layer) and "
        "{explained_variance_whole_model[0]:.2f} + {explained_variance_whole_model[1]:.2f} "
        "(whole model) of the variance",
        document="200 points of sin(x) + 0.5x on [-10, 10], three ReLU layers, Adam lr 0.01, 100 "
        "epochs, weights every 3 epochs, 8 trainings; the whole model's PCA shows clusters",
        also=(
            "nnlab run weight-trajectory (the homework's MNIST instead of the seed's regression)",
        ),
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
)

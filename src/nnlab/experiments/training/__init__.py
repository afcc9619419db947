"""Training: descent, optimisers, regularisation, search. How a network is trained: gradient
descent and its step size, batch sizes, optimisers, a full classifier, over-fitting and its
cures, hyper-parameter search.
"""

TITLE = "Training: descent, optimisers, regularisation, search"
ORDER = (
    "gradient_descent_1d",
    "online_vs_minibatch",
    "optimizers",
    "mlp_classifier",
    "regularization",
    "hparam_search",
)
"""Its experiments' modules in the order the chapter teaches them."""

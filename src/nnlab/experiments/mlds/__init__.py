"""The science of deep learning (MLDS). Why deep networks work: depth at equal parameters, the
optimisation process, gradient norms and minima, generalisation, random labels, flatness and
sensitivity.
"""

TITLE = "The science of deep learning (MLDS)"
ORDER = (
    "function_fit",
    "deep_vs_shallow",
    "grad_norm",
    "minimal_ratio",
    "weight_trajectory",
    "params_vs_generalization",
    "random_labels",
    "flatness_interpolation",
    "sensitivity",
    "local_minima",
)
"""Its experiments' modules in the order the chapter teaches them."""

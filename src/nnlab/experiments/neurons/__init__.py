"""Neurons and back-propagation. What one neuron and a small network compute, learn and cannot
learn; back-propagation by hand. The playground (`nnlab playground`) belongs here.
"""

TITLE = "Neurons and back-propagation"
ORDER = (
    "perceptron",
    "xor",
    "who_learns_xor",
    "fundamentals",
    "backprop_by_hand",
    "layer_gradients",
)
"""Its experiments' modules in the order the chapter teaches them."""

"""Convolutional networks. Convolution and pooling: a CNN on MNIST, the Q3 network in PyTorch,
fully-connected against LeNet, and what CNN units see.
"""

TITLE = "Convolutional networks"
ORDER = ("cnn_mnist", "q3_torch", "lenet", "cnn_units")
"""Its experiments' modules in the order the chapter teaches them."""

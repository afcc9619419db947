"""Convolutional networks. Convolution and pooling: a CNN on MNIST, fully-connected against LeNet,
and what CNN units see.
"""

TITLE = "Convolutional networks"
ORDER = ("cnn_mnist", "lenet", "cnn_units")
"""Its experiments' modules in the order the chapter teaches them."""

"""The from-scratch engine. The NumPy engine (`nnlab.scratch`) trains the course's networks with no
framework: a classifier, an autoencoder and the UFLDL sparse autoencoder.
"""

TITLE = "The from-scratch engine"
ORDER = ("numpy_classifier", "numpy_autoencoder", "sparse_autoencoder", "initialisation")
"""Its experiments' modules in the order the chapter teaches them."""

"""Small numerical helpers, each a few functions on arrays: `metrics` (accuracy, confusion,
errors), `pca`, `identities` (the fundamentals' numerical identities), `imaging` (mosaics and
image scaling) and `convshape` (convolution and pooling output-size arithmetic).
"""

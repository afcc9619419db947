"""Datasets: a registry of files with checksums, lookup/cache/download, and loaders.

    from nnlab.data import load_dataset, make_toy
    splits = load_dataset("fashion-mnist")        # ArraySplits, images float32 in [0, 1]
    chars = load_chars36(samples_per_glyph=20)    # 0-9, A-Z; with x_val / y_val
    X, y = make_toy("spiral", n=400, noise=0.1)   # TensorFlow Playground-style 2-D sets
    images = load_natural_images()                # (9, 256, 256) whitened like IMAGES.mat

See README.md in this folder for how files are found and verified. Beside the loaders:
`augment` (batch image augmentation and the distortions pages do to letters) and
`imagefolder` (a folder of class sub-folders as a data set).
"""

from nnlab.data.chars36 import load_chars36
from nnlab.data.cifar10 import CIFAR10_CLASSES, load_cifar10
from nnlab.data.datasets import (
    CLASS_NAMES,
    load_dataset,
    load_idx_images,
    load_text,
)
from nnlab.data.idx import read_idx, write_idx
from nnlab.data.natural_images import (
    NATURAL_IMAGE_NAMES,
    load_natural_images,
    load_ufldl_images,
    normalize_patches,
    olshausen_whiten,
    sample_patches,
)
from nnlab.data.registry import (
    DATASETS,
    Dataset,
    DatasetStatus,
    FileSpec,
    cache_dir,
    data_dirs,
    fetch,
    locate,
    status,
)
from nnlab.data.splits import ArraySplits
from nnlab.data.toy import TOY_KINDS, make_toy

__all__ = [
    "CIFAR10_CLASSES",
    "CLASS_NAMES",
    "DATASETS",
    "NATURAL_IMAGE_NAMES",
    "TOY_KINDS",
    "ArraySplits",
    "Dataset",
    "DatasetStatus",
    "FileSpec",
    "cache_dir",
    "data_dirs",
    "fetch",
    "load_dataset",
    "load_chars36",
    "load_cifar10",
    "load_idx_images",
    "load_natural_images",
    "load_text",
    "load_ufldl_images",
    "locate",
    "make_toy",
    "normalize_patches",
    "olshausen_whiten",
    "read_idx",
    "sample_patches",
    "status",
    "write_idx",
]

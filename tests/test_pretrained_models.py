"""nnlab.models.pretrained (model files, ImageNet normalisation) and
nnlab.data.imagefolder sources."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from PIL import Image

from nnlab.data.imagefolder import class_index, read_source
from nnlab.errors import DataError, UserError
from nnlab.models import CNN
from nnlab.models.pretrained import (
    IMAGENET_MEAN,
    imagenet_normalize,
    is_model_file,
    load_model_file,
    require_torchvision,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class Bar:
    def reset(self, total=None):
        self.n = 0

    def update(self, n=1):
        self.n = getattr(self, "n", 0) + n


def test_a_weights_only_cnn_file_round_trips_with_its_class_names(tmp_path):
    torch.manual_seed(0)
    kwargs = {"input_shape": (3, 8, 8), "n_classes": 2, "channels": (4,), "kernels": (3,),
              "hidden": (5,)}  # fmt: skip
    model = CNN(**kwargs).eval()
    path = tmp_path / "cnn.pt"
    torch.save({"state_dict": model.state_dict(), "cnn": kwargs, "class_names": ["a", "b"]}, path)
    loaded, names = load_model_file(path)
    x = torch.rand(3, 3, 8, 8)
    assert names == ["a", "b"] and torch.equal(loaded.eval()(x), model(x))
    torch.save({"state_dict": model.state_dict()}, tmp_path / "bare.pt")
    with pytest.raises(DataError, match="without its architecture"):
        load_model_file(tmp_path / "bare.pt")
    with pytest.raises(DataError, match="does not exist"):
        load_model_file(tmp_path / "missing.pt")
    assert is_model_file("cnn.pt") and is_model_file("dir/model") and not is_model_file("resnet18")


def test_imagenet_normalize_centres_the_imagenet_mean():
    x = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    assert torch.allclose(imagenet_normalize(x), torch.zeros(2, 3, 4, 4), atol=1e-7)


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="has torchvision")
def test_missing_torchvision_says_what_to_install():
    with pytest.raises(UserError, match=r"pretrained=resnet18 needs torchvision: pip install"):
        require_torchvision("pretrained=resnet18")


def test_class_index_matches_names_loosely_or_by_number():
    names = ["tabby cat", "Dog", "car"]
    got = class_index(["Tabby_Cat", "dog", None, "2"], names)
    assert got.tolist() == [0, 1, -1, 2]
    with pytest.raises(DataError, match="not among the model's 3 classes"):
        class_index(["horse"], names)


def test_read_source_reads_one_image_or_a_folder_of_loose_images(tmp_path):
    Image.new("RGB", (5, 3), (10, 20, 30)).save(tmp_path / "one.png")
    Image.new("RGB", (4, 4), (200, 0, 0)).save(tmp_path / "two.png")
    single = read_source(tmp_path / "one.png", 6, Bar(), label="x")
    assert single.kind == "image" and single.images.shape == (1, 6, 6, 3)
    assert single.truth == ["x"] and single.images[0, 0, 0].tolist() == [10, 20, 30]
    loose = read_source(tmp_path, 4, bar := Bar())
    assert loose.kind == "images" and loose.truth == [None, None] and bar.n == 2
    assert loose.images.dtype == np.uint8 and loose.folder_classes == []

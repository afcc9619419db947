"""mosaic and contrast_normalise (orientation_coherence is tested with the sparse autoencoder)."""

import numpy as np

from nnlab.numerics.imaging import contrast_normalise, mosaic


def test_mosaic_places_tiles_row_by_row_with_padding():
    tiles = np.arange(1, 6, dtype=float)[:, None, None] * np.ones((5, 2, 3))
    out = mosaic(tiles, background=-1.0)  # 5 tiles: 3 columns, 2 rows
    assert out.shape == (2 * (2 + 1) + 1, 3 * (3 + 1) + 1)
    assert out[1:3, 1:4].tolist() == [[1.0] * 3] * 2  # tile 0, top left
    assert np.all(out[1:3, 5:8] == 2.0) and np.all(out[4:6, 5:8] == 5.0)  # tiles 1 and 4
    assert np.all(out[4:6, 9:12] == -1.0)  # the missing sixth tile is background
    assert np.all(out[0] == -1.0) and np.all(out[:, 4] == -1.0)  # padding
    assert mosaic(tiles, ncols=5, pad=0).shape == (2, 15)


def test_contrast_normalise_divides_each_image_by_its_largest_magnitude():
    images = np.stack([np.array([[2.0, -4.0]]), np.zeros((1, 2)), np.array([[0.5, 0.25]])])
    out = contrast_normalise(images)
    np.testing.assert_array_equal(out, [[[0.5, -1.0]], [[0.0, 0.0]], [[1.0, 0.5]]])

"""`nnlab ocr --model` with a numpy-classifier run: the learner's own Q3 network (NumPy engine)
reads a page (seed 004 Q4.4); its weights file is arrays only, and a wrong or hostile one is a
one-line error."""

from __future__ import annotations

import io
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from nnlab.cli import main
from nnlab.ocr import ScratchClassifier, generate_pages, load_run_classifier, read_page
from nnlab.ocr.score import character_accuracy
from nnlab.scratch.q3 import q3_network


@pytest.fixture(scope="module")
def q3_run(tmp_path_factory):
    """A numpy-classifier smoke run trained 10 epochs: its best network reaches ~45% on
    chars36's validation fonts (4 images per glyph), enough to read clean printed pages."""
    out = tmp_path_factory.mktemp("q3")
    args = ["run", "numpy-classifier", "--preset", "smoke", "--set", "epochs=10"]
    assert main([*args, "--quiet", "--out", str(out)]) == 0
    [run_dir] = (out / "numpy-classifier").iterdir()
    return run_dir


@pytest.fixture(scope="module")
def page():
    return generate_pages(1, seed=5, chars_per_page=120)[0]


def test_a_numpy_classifier_run_reads_a_page_through_the_command(tmp_path, capsys, q3_run, page):
    """Measured: 93% of the characters (whitespace aside) on this page; the same pipeline with
    the untrained network's weights read 6%, with each crop transposed 11% and with the ink
    inverted 7%. The floor of 60% fails every one of those and leaves room for rounding."""
    path = tmp_path / "page.png"
    Image.fromarray(np.rint(page.image * 255).astype(np.uint8)).save(path)
    assert main(["ocr", str(path), "--model", str(q3_run)]) == 0
    captured = capsys.readouterr()
    read = captured.out.strip()
    assert character_accuracy(page.text, read, whitespace=False) >= 0.6, (page.text, read)
    assert read.count("\n") == page.text.count("\n")
    # the baseline, measured here: the same reader with the untrained network's weights
    reader = load_run_classifier(q3_run)
    assert isinstance(reader, ScratchClassifier) and reader.ink == "dark"
    assert 0.2 <= reader.val_accuracy <= 1  # the run's own chars36 validation accuracy
    untrained = ScratchClassifier(q3_network(64, 0), reader.class_names, "dark", "", "", None, None)
    chance = character_accuracy(page.text, read_page(page.image, untrained).text, whitespace=False)
    assert character_accuracy(page.text, read, whitespace=False) >= chance + 0.4


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _good_arrays(hidden: int = 64) -> dict[str, np.ndarray]:
    model = q3_network(hidden, 0)
    return {
        "W1": model.layers[0].params["W"],
        "b1": model.layers[0].params["b"],
        "W2": model.layers[2].params["W"],
        "b2": model.layers[2].params["b"],
        "class_names": np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        "ink": np.array("dark"),
    }


def _huge_header_npz() -> bytes:
    """b1's header claims 10**12 float64 values; the data is 8 bytes."""
    good = _good_arrays()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, array in good.items():
            member = io.BytesIO()
            if name == "b1":
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
                )
                member.write(b"\0" * 8)
            else:
                np.lib.format.write_array(member, array)
            zf.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


def _hostile_files() -> dict[str, tuple[bytes, str]]:
    good = _good_arrays()
    files = {
        "not a zip": (b"PK\x03\x04 truncated", "not a readable .npz"),
        "truncated": (_npz(**good)[:5000], "not a readable .npz"),
        "W1 transposed": (_npz(**(good | {"W1": good["W1"].T})), "W1"),
        "a key missing": (_npz(**{k: v for k, v in good.items() if k != "b2"}), "holds"),
        "pickled objects": (
            _npz(**(good | {"class_names": np.array([object()] * 36, dtype=object)})),
            "class_names",
        ),
        "huge header": (_huge_header_npz(), "b1"),
        "NaN weights": (_npz(**(good | {"W2": np.full((64, 36), np.nan)})), "not finite"),
        "unknown ink": (_npz(**(good | {"ink": np.array("green")})), "ink"),
    }
    return files


@pytest.mark.parametrize("case", list(_hostile_files()))
def test_a_wrong_or_hostile_weights_file_is_a_one_line_error(tmp_path, capsys, q3_run, case):
    blob, expected = _hostile_files()[case]
    run_dir = tmp_path / "run"
    shutil.copytree(q3_run, run_dir)
    (run_dir / "checkpoints" / "model.npz").write_bytes(blob)
    path = tmp_path / "page.png"
    Image.new("L", (64, 64), 255).save(path)
    assert main(["ocr", str(path), "--model", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnlab: error: "), err
    assert expected in err[0] and "model.npz" in err[0], err


def test_a_run_without_its_weights_file_says_so(tmp_path, capsys, q3_run):
    run_dir = tmp_path / "run"
    shutil.copytree(q3_run, run_dir)
    (run_dir / "checkpoints" / "model.npz").unlink()
    path = tmp_path / "page.png"
    Image.new("L", (64, 64), 255).save(path)
    assert main(["ocr", str(path), "--model", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no checkpoints/model.npz" in err[0], err


def test_ocr_q3_run_that_is_no_run_is_a_one_line_error(tmp_path, capsys):
    from runs_helper import one_line_error

    one_line_error(tmp_path / "out", capsys, "ocr", [f"q3_run={tmp_path}"], "not a run directory")

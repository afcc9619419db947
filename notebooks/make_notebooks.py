"""Write the course notebooks, one per chapter, without outputs:

    python notebooks/make_notebooks.py          # (re)write notebooks/*.ipynb
    python notebooks/make_notebooks.py --check  # exit 1 if a notebook differs from this script

Each notebook runs a few of its chapter's experiments on the smoke preset (`PRESET = "quick"`
for a few CPU minutes each), shows each run inline, asks two or three questions the runs
answer and lists the chapter's other experiments. The runs go to `RUNS` (`runs/`, or
`$NNLAB_NOTEBOOK_RUNS`: the tests send them to a temporary folder). Edit the text here, not in
the notebooks: tests/test_notebooks.py checks the notebooks are what this script writes, and
runs each of them in a Jupyter kernel.

Each chapter runs its cheapest telling experiments: together the nine notebooks take under
three minutes on a busy 2-core CPU (one torch thread per kernel).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
RUNS_VARIABLE = "NNLAB_NOTEBOOK_RUNS"


@dataclass
class Question:
    text: str  # markdown, after "**Question n.**"
    check: str  # code whose output holds the answer


@dataclass
class Step:
    experiment: str
    var: str  # the Python name the result gets in the notebook
    text: str  # markdown: a heading and what the run does
    questions: list[Question] = field(default_factory=list)
    settings: str = ""  # extra keyword settings, e.g. 'hidden=8' (none by default)


@dataclass
class Chapter:
    package: str  # the chapter's subpackage in nnlab.experiments
    intro: str
    steps: list[Step]
    outro: str = ""


CHAPTERS = [
    Chapter(
        "neurons",
        "One neuron computes a weighted sum of its inputs and fires when the sum passes a "
        "threshold. What can such a unit learn on its own, and what does it take a hidden "
        "layer to learn? First the perceptron rule on three logic gates, then XOR three ways.",
        [
            Step(
                "perceptron",
                "perceptron",
                "## The perceptron rule\n\nRosenblatt's perceptron predicts ŷ = [w·x + b > 0] "
                "and after each mistake moves its weights by η (y − ŷ) x. It visits the four "
                "input points one at a time, for OR, AND and XOR.",
                [
                    Question(
                        "How many epochs did the rule need to learn OR, and AND? Does XOR "
                        "ever get through an epoch without a mistake, and why can it not?",
                        "s = perceptron.summary\n"
                        'epochs = {g: s[g]["epochs_to_converge"] for g in ("or", "and", "xor")}\n'
                        'epochs, s["xor_min_mistakes_per_epoch"]',
                    ),
                ],
            ),
            Step(
                "xor",
                "xor",
                "## XOR needs a hidden layer\n\nThe same four points, three models: a "
                "network whose weights are set by hand, logistic regression (one sigmoid "
                "neuron, trained) and a 2-H-1 sigmoid network trained by back-propagation.",
                [
                    Question(
                        "What accuracy does logistic regression reach on the four points, and "
                        "what is the most any straight line can get right? Where does its loss "
                        "stall (compare it with ln 2 ≈ 0.693)?",
                        "s = xor.summary\n"
                        's["logreg_accuracy"], s["max_linear_accuracy"], s["logreg_loss"]',
                    ),
                    Question(
                        'The trained network has `xor.config["hidden"]` hidden units. How '
                        "many epochs did it take to get all four points right, and from what "
                        "share of random starts did it get there? Predict what changes with 2 "
                        "hidden units, then check with "
                        '`nnlab.run("xor", preset=PRESET, out=RUNS, hidden=2, '
                        "robustness_seeds=20)`.",
                        "s = xor.summary\n"
                        'xor.config["hidden"], s["trained_network_epochs_to_100"], '
                        's["robustness_success_rate"]',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "training",
        "Training is descent on a loss surface. First what one gradient step does in one "
        "dimension, where everything can be computed by hand; then a real classifier trained "
        "with mini-batches in PyTorch.",
        [
            Step(
                "gradient-descent-1d",
                "descent",
                "## Gradient descent in one dimension\n\nOn a quadratic of curvature L, one "
                "step of size η multiplies the distance to the minimum by |1 − ηL|. The run "
                "tries a small, a good, a too-large and a divergent η, then a quartic with two "
                "minima.",
                [
                    Question(
                        "For each step size, by what factor did one step shrink (or grow) the "
                        "distance to the minimum? Which step size oscillates, which diverges, "
                        "and what is ηL for the divergent one?",
                        "{\n"
                        '    name: (q["eta_times_L"], round(q["measured_contraction"][0], 3),'
                        ' q["converges"])\n'
                        '    for name, q in descent.summary["quadratic"].items()\n'
                        "}",
                    ),
                ],
            ),
            Step(
                "mlp-classifier",
                "mlp",
                "## A classifier\n\nA fully-connected network (an MLP) trained with "
                "mini-batches on small images of handwritten digits: scikit-learn's 8×8 digits "
                'on the smoke preset, MNIST with `dataset="mnist"` where you have it.',
                [
                    Question(
                        "What share of the test digits does the network get right, and of the "
                        "training digits? Is it over-fitting (much better on training than on "
                        "test)?",
                        'mlp.summary["train_accuracy"], mlp.summary["test_accuracy"]',
                    ),
                    Question(
                        "Which digit does it mistake most often, and for which? Find it in the "
                        "confusion matrix first.",
                        'display(mlp.figure("confusion_matrix"))\nmlp.summary["most_confused"][0]',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "engine",
        "nnlab's from-scratch engine is NumPy only: every layer's forward and backward pass "
        "is written out, and gradients are checked against finite differences. Two "
        "autoencoders built on it.",
        [
            Step(
                "numpy-autoencoder",
                "autoencoder",
                "## An autoencoder from scratch\n\nA 1024-32-32-32-1024 network learns to "
                "copy 32×32 images of characters (chars36: digits and letters rendered in 50 "
                "fonts) through 32 numbers. Its quality is the PSNR of its reconstructions, in "
                "dB: higher is better.",
                [
                    Question(
                        "How many dB does training gain over the untrained network? And over "
                        "the laziest autoencoder there is, which outputs the average image "
                        "whatever the input? What would you change to widen that gap "
                        "(see `autoencoder.config`)?",
                        "s = autoencoder.summary\n"
                        's["val_psnr_untrained"], s["val_psnr_mean_image"], s["val_psnr"]',
                    ),
                ],
            ),
            Step(
                "sparse-autoencoder",
                "sparse",
                "## A sparse autoencoder on natural images\n\nUFLDL's exercise: 25 hidden "
                "units trained by L-BFGS on 8×8 patches of whitened photographs, with a "
                "penalty that keeps each unit's mean activation near ρ. First the analytic "
                "gradient is checked against finite differences.",
                [
                    Question(
                        "How far apart are the analytic and the numerical gradient (a bug "
                        "typically gives more than 1e-3)? How active is a hidden unit on "
                        "average, against the target ρ?",
                        's = sparse.summary\ns["gradcheck_relative_difference"], '
                        's["mean_activation"], sparse.config["rho"]',
                    ),
                    Question(
                        "What do the learned filters look like? What share of them are "
                        "oriented edges, against the random filters the run started from?",
                        'display(sparse.figure("filters"))\n'
                        'sparse.summary["edge_fraction_trained"], '
                        'sparse.summary["edge_fraction_random"]',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "convnets",
        "A convolutional layer slides small filters over the image: the same few weights at "
        "every position. Does that help? A LeNet-style CNN against a fully-connected network "
        "on the same images, epochs and optimiser.",
        [
            Step(
                "lenet",
                "lenet",
                "## LeNet against a fully-connected network\n\nOn the smoke preset both "
                "networks train on scikit-learn's 8×8 digits; the course compared them on "
                "32×32 handwritten characters (77.4% for the fully-connected network, 84.5% "
                'for the CNN): `dataset="chars36"`, the default of the other presets, is the '
                "closest nnlab has.",
                [
                    Question(
                        "Which network gets more test images right, and with how many "
                        "parameters each?",
                        "s = lenet.summary\n"
                        's["cnn_test_accuracy"], s["fc_test_accuracy"], s["cnn_parameters"], '
                        's["fc_parameters"]',
                    ),
                    Question(
                        "Which network learns faster in the first epochs, and does either "
                        "over-fit? On images this small, how much room is there for a filter "
                        "to find local patterns? Predict, then run it with "
                        '`dataset="chars36"`.',
                        'lenet.figure("learning_curves")',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "autoencoders",
        "An autoencoder learns to reproduce its input through a bottleneck, and what it keeps "
        "is what it has learned about the data. The course's convolutional autoencoder with a "
        "2-number code, then a denoising autoencoder on a curve in the plane.",
        [
            Step(
                "conv-autoencoder",
                "cae",
                "## A convolutional autoencoder with a 2-D code\n\nConvolutions down to 2 "
                "numbers per image, transposed convolutions back up. The 2-D codes can be "
                "drawn: do images of the same digit land together?",
                [
                    Question(
                        "How close are the reconstructions to the originals (MSE per pixel)? "
                        "How often do a test image's 5 nearest neighbours in code space name "
                        "its class, against 10% by chance?",
                        'display(cae.figure("codes"))\n'
                        'cae.summary["test_mse"], cae.summary["knn_accuracy"]',
                    ),
                ],
            ),
            Step(
                "corruption-2d",
                "denoise",
                "## Denoising on a curve\n\nPoints on y = x² are corrupted by a process "
                "C(x̃ | x) and a small network learns to map them back: where does it send "
                "them?",
                [
                    Question(
                        "How far from the curve are the corrupted points on average, and the "
                        "denoised ones? Where do the arrows point?",
                        'display(denoise.figure("denoising_field"))\n'
                        "s = denoise.summary\n"
                        's["mean_distance_corrupted"], s["mean_distance_denoised"]',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "mlds",
        "The science of deep learning asks what training does, with experiments small enough "
        "to look inside: how the gradient behaves while the loss falls, and whether a network "
        "can learn labels that mean nothing.",
        [
            Step(
                "grad-norm",
                "grad",
                "## The gradient norm during training\n\nThe loss and the norm of the full "
                "gradient √(Σ‖∂L/∂p‖²), at every iteration.",
                [
                    Question(
                        "The loss falls; does the gradient norm fall with it to zero? Compare "
                        "the first values with the mean of the last 10% of iterations.",
                        "s = grad.summary\n"
                        's["first_loss"], s["mean_loss_last_10pct"], s["first_grad_norm"], '
                        's["mean_grad_norm_last_10pct"]',
                    ),
                ],
            ),
            Step(
                "random-labels",
                "shuffled",
                "## Random labels\n\nZhang et al. (2017): the same network trained on the "
                "true labels and on labels shuffled at random.",
                [
                    Question(
                        "Does the network fit the random labels (training accuracy)? How many "
                        "more epochs does it need than with the true labels?",
                        "s = shuffled.summary\n"
                        's["random_train_accuracy"], s["epochs_to_fit_random"], '
                        's["epochs_to_fit_true"]',
                    ),
                    Question(
                        "And on test images? What has the network learned from the random "
                        "labels, and what does that say about training accuracy as a "
                        "measure?",
                        "s = shuffled.summary\n"
                        's["random_test_accuracy"], s["chance"], s["true_test_accuracy"]',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "sequences",
        "A language model predicts the next character from the ones before it. A small "
        "character-level GPT (nanoGPT's design) on a short play the smoke preset generates; "
        '`corpus="tinyshakespeare"` trains it on Shakespeare where you have the text.',
        [
            Step(
                "char-gpt",
                "gpt",
                "## A character GPT\n\nThe loss is in nats per character: a model that "
                "guesses uniformly among V characters scores ln V.",
                [
                    Question(
                        "What validation loss did the model reach, against ln V for its "
                        "vocabulary of V characters? How many times more likely is the right "
                        "next character under the model than under a uniform guess "
                        "(exp of the difference)?",
                        "import math\n\n"
                        's = gpt.summary\nuniform = math.log(s["vocab_size"])\n'
                        's["best_val_loss"], uniform, math.exp(uniform - s["best_val_loss"])',
                    ),
                    Question(
                        "Read its sample. What has it learned first: spelling, word lengths, "
                        "line breaks, names?",
                        'print(gpt.summary["sample"])',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "diffusion",
        "A diffusion model learns to undo noise: images are blurred into pure noise over T "
        "steps, and a network is trained to predict the noise that was added. Sampling runs "
        "the process backwards, with DDPM's T steps or DDIM's few.",
        [
            Step(
                "ddpm",
                "ddpm",
                "## DDPM and DDIM on digits\n\nThe sample quality is a Fréchet distance in "
                "the features of a fixed digit classifier: 0 would be indistinguishable from "
                "real test images, and real training images score the floor.",
                [
                    Question(
                        "How far did the noise-prediction loss fall from the first epoch to "
                        "the last?",
                        'ddpm.summary["epoch_losses"]',
                    ),
                    Question(
                        "How far are the samples from real digits, against the floor of real "
                        "images? Does DDIM with 5 or 10 steps cost much quality against "
                        "DDPM's full chain? Look at the samples: what would more epochs change?",
                        'display(ddpm.figure("samples_ddpm"))\n'
                        "s = ddpm.summary\n"
                        '{k: round(s[k], 1) for k in s if k.endswith("frechet")}',
                    ),
                ],
            ),
        ],
    ),
    Chapter(
        "applications",
        "The pieces put to work. Optical character recognition: find the letters of a page "
        "image by connected components, read each with a classifier trained on chars36, group "
        "them into lines and words.",
        [
            Step(
                "ocr",
                "ocr",
                "## Reading a page\n\nThe smoke preset renders pages in fonts the classifier "
                "never saw, so the true text is known.",
                [
                    Question(
                        "What share of the characters did it read right, and of the letters' "
                        "boxes did it find? Which characters does it confuse?",
                        's = ocr.summary\ns["accuracy"], s["box_recall"], s["confusions"][:5]',
                    ),
                    Question(
                        "Look at the worst page: what goes wrong, the finding of the boxes or "
                        "the reading of the letters?",
                        'ocr.figure("page_worst")',
                    ),
                ],
            ),
        ],
    ),
]


def _setup(chapter: Chapter) -> str:
    return (
        "import os\n\n"
        "import nnlab\n\n"
        'PRESET = "smoke"  # seconds per run; "quick": a few CPU minutes each, nearer the '
        "course's numbers\n"
        f'RUNS = os.environ.get("{RUNS_VARIABLE}", "runs")  # runs go to RUNS/<experiment>/\n'
        f'chapter = nnlab.experiments.chapter_title("{chapter.package}")\n'
        "nnlab.experiments()[chapter]  # this chapter's experiments"
    )


def _run_cell(step: Step) -> str:
    extra = f", {step.settings}" if step.settings else ""
    return (
        f'{step.var} = nnlab.run("{step.experiment}", preset=PRESET, out=RUNS{extra})\n{step.var}'
    )


def _names(chapter: Chapter) -> str:
    names = [f"`{s.experiment}`" for s in chapter.steps]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _rest(chapter: Chapter, names: list[str]) -> str:
    shown = {s.experiment for s in chapter.steps}
    rest = [n for n in names if n not in shown]
    text = "## What next\n\n"
    if rest:
        text += (
            "To stay within seconds this notebook runs "
            + _names(chapter)
            + ". The chapter's other experiments run the same way:\n\n```python\n"
            + "".join(f'nnlab.run("{n}", preset=PRESET, out=RUNS)\n' for n in rest)
            + "```\n\n"
        )
    text += (
        "Each result `r` holds `r.summary`, `r.config` (the settings), `r.metrics` (every "
        "logged line), `r.figures` and `r.dir`; `nnlab.load(r.dir)` reads a finished run "
        "back. In a terminal opened in this folder, `nnlab describe EXPERIMENT` lists every "
        "setting and `nnlab report runs` writes an atlas of all your runs (`runs/index.html`)."
    )
    return text + (f"\n\n{chapter.outro}" if chapter.outro else "")


def build(chapter: Chapter, number: int, title: str, names: list[str]) -> nbformat.NotebookNode:
    """The notebook of one chapter, without outputs and with stable cell ids."""
    runs = _names(chapter)
    cells = [
        new_markdown_cell(
            f"# {number}. {title}\n\n{chapter.intro}\n\n"
            f"This notebook runs {runs} on the smoke preset: seconds each, on data that "
            "ships with nnlab. Run it top to bottom (Run → Run All Cells), read each result, "
            'then answer the questions. Set `PRESET = "quick"` for runs of a few CPU '
            "minutes each whose numbers come nearer the course's."
        ),
        new_code_cell(_setup(chapter)),
    ]
    n = 0
    for step in chapter.steps:
        cells += [new_markdown_cell(step.text), new_code_cell(_run_cell(step))]
        for q in step.questions:
            n += 1
            cells += [
                new_markdown_cell(f"**Question {n}.** {q.text}"),
                new_code_cell(q.check),
            ]
    cells.append(new_markdown_cell(_rest(chapter, names)))
    for i, cell in enumerate(cells):
        cell["id"] = f"{chapter.package}-{i:02d}"
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )


def notebooks() -> dict[Path, str]:
    """{path: notebook text} of every chapter's notebook, in course order."""
    from nnlab.experiments import CHAPTERS as ORDER
    from nnlab.experiments import chapter_title, registry

    by_package = {c.package: c for c in CHAPTERS}
    if list(by_package) != list(ORDER):
        raise SystemExit(f"notebooks for {list(by_package)}, but the chapters are {list(ORDER)}")
    experiments = registry().values()
    out = {}
    for number, package in enumerate(ORDER, start=1):
        names = [e.name for e in experiments if e.chapter == package]
        nb = build(by_package[package], number, chapter_title(package), names)
        nbformat.validate(nb)
        out[HERE / f"{number:02d}-{package}.ipynb"] = nbformat.writes(nb) + "\n"
    return out


def main(argv: list[str]) -> int:
    wanted = notebooks()
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    if "--check" in argv:
        for p in stale:
            print(f"{p.name} differs from what {Path(__file__).name} writes", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

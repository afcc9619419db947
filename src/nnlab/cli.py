"""The `nnlab` command line."""

# Thin: parse arguments, call library code, print results. Bad input raises `UserError`;
# `main` prints its one-line message and exits with code 2.

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nnlab.errors import UserError
from nnlab.report.tables import text_table, wrapped

WIDTH = 100  # the terminal width `list`, `describe` and `course` fit


def _seed_number(text: str) -> str:
    digits = text.strip().lstrip("0")
    if not text.strip().isdigit():
        raise UserError(f"--seed takes a seed document's number such as 004, got {text!r}")
    return f"{int(digits or 0):03d}"


def cmd_list(args: argparse.Namespace) -> None:
    from nnlab.experiments import CHAPTERS, chapter_title, registry

    experiments = list(registry().values())
    if args.seed is not None:
        seed = _seed_number(args.seed)
        experiments = [e for e in experiments if e.answers_seed(seed)]
        if not experiments:
            raise UserError(f"no experiment answers seed {seed}; seeds are 000 to 004")
    if args.json:
        print(json.dumps([e.record() for e in experiments], indent=1))
        return
    print(
        "nnlab's experiments, chapter by chapter in course order. Each runs with `nnlab run NAME`"
    )
    print("(presets smoke, quick, full); `nnlab describe NAME` shows its settings.")
    for number, chapter in enumerate(CHAPTERS, start=1):
        members = [e for e in experiments if e.chapter == chapter]
        if not members:
            continue
        print(f"\n{number}. {chapter_title(chapter)}")
        if chapter == "neurons" and args.seed is None:
            playground = "the web page that trains a network live"
            print("\n".join(wrapped(playground, WIDTH, "   nnlab playground", 29)))
        for e in members:
            print("\n".join(wrapped(e.description, WIDTH, f"   {e.name}", 29)))
            print("\n".join(wrapped(f"reproduces: {e.reproduces}", WIDTH, indent=31)))


def _short(value: Any, width: int) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_describe(args: argparse.Namespace) -> None:
    from nnlab.config import field_help
    from nnlab.experiments import PRESET_NAMES, chapter_title, get

    exp = get(args.experiment)
    lines = wrapped(exp.description, WIDTH, f"{exp.name}:", 0)
    lines += wrapped(exp.reproduces, WIDTH, "reproduces:", 0)
    lines += wrapped(chapter_title(exp.chapter), WIDTH, "chapter:", 0)
    if exp.teaching is not None:
        lines += wrapped(exp.teaching.question, WIDTH, "question:", 0)
    print("\n".join(lines))
    configs = {p: exp.make_config(p).to_dict() for p in PRESET_NAMES}
    rows = []
    for name, kind, _, text in field_help(exp.config):
        rows.append((name, *(_short(configs[p][name], 20) for p in PRESET_NAMES)))
        rows.append(("", f"  {text}{'; ' if text else ''}{kind}", "", ""))
    table = text_table(["setting", *PRESET_NAMES], [r for r in rows if r[0]])
    print()
    print(table[0])
    print(table[1])
    body = iter(table[2:])
    for row in rows:
        if row[0]:
            print(next(body))
        else:
            print("\n".join(wrapped(row[1].strip(), WIDTH, indent=4)))
    print("\nSetting names mean the same in every experiment: src/nnlab/SETTINGS.md")


def _print_result(run_dir: Path) -> None:
    from nnlab.report.render import format_value
    from nnlab.runs.read import read_run

    run = read_run(run_dir, metrics=False)
    shown = format_value(run.headline_value)
    print(
        f"{run.config['experiment']} ({run.config['preset']}): {run.headline_metric} = {shown} "
        f"in {run.status['elapsed_seconds']:.1f} s"
    )
    print(f"run directory: {run_dir}")
    print(f"report: {run_dir / 'report.html'}")


def _read_config_file(path: str | None) -> dict:
    """Overrides from a JSON file: an object of setting → value."""
    if path is None:
        return {}
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read --config file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"--config file {path} is not valid JSON ({exc})") from None
    if not isinstance(values, dict):
        raise UserError(f"--config file {path} must hold a JSON object of setting: value")
    return values


def cmd_run(args: argparse.Namespace) -> None:
    from nnlab.config import parse_overrides
    from nnlab.experiments import get
    from nnlab.runs.runner import execute, read_run_dir
    from nnlab.runs.tensorboard import wanted
    from nnlab.training.distributed import from_environment

    tensorboard = wanted(args.tensorboard)
    if args.resume:
        if args.experiment or args.overrides or args.config:
            raise UserError("--resume takes only the run directory; drop the experiment and --set")
        run_dir = Path(args.resume)
        config, status = read_run_dir(run_dir)
        if status.get("state") == "completed":
            raise UserError(f"{run_dir} already completed; nothing to resume")
        exp = get(config["experiment"])
        cfg = exp.make_config(config["preset"], config["config"])
        run_dir = execute(
            exp,
            cfg,
            preset=config["preset"],
            seed=config["seed"],
            device=args.device,
            quiet=args.quiet,
            allow_download=True,
            resume_dir=run_dir,
            tensorboard=tensorboard,
        )
    else:
        if not args.experiment:
            raise UserError("name an experiment (`nnlab list` shows them) or pass --resume RUN_DIR")
        exp = get(args.experiment)
        overrides = {**_read_config_file(args.config), **parse_overrides(args.overrides)}
        cfg = exp.make_config(args.preset, overrides)
        run_dir = execute(
            exp,
            cfg,
            preset=args.preset,
            seed=args.seed,
            device=args.device,
            out=Path(args.out),
            quiet=args.quiet,
            allow_download=True,
            tensorboard=tensorboard,
        )
    if from_environment().is_main:  # under torchrun, rank 0 speaks for the run
        _print_result(run_dir)


def _data_present(cfg: Any) -> bool:
    """Whether the registered dataset a config trains on (its `dataset` or `corpus`: MNIST,
    Tiny Shakespeare, ...) is present; False for embedded or generated data."""
    from nnlab.data.registry import DATASETS, status

    settings = cfg.to_dict()
    name = settings.get("dataset", settings.get("corpus"))
    return name in DATASETS and status(name)[0].present


def cmd_tour(args: argparse.Namespace) -> None:
    from nnlab.data.registry import status
    from nnlab.experiments import registry
    from nnlab.report.render import render_index
    from nnlab.runs.runner import execute
    from nnlab.runs.tensorboard import wanted

    [mnist] = status("mnist")
    if mnist.present:
        print(f"tour on MNIST where an experiment takes it (found in {mnist.where})")
    else:
        print("tour on embedded data (MNIST not found; set NNLAB_DATA to use it)")
    for exp in registry().values():
        overrides = exp.tour
        if exp.tour_mnist is not None and _data_present(
            exp.make_config(args.preset, exp.tour_mnist)
        ):
            overrides = exp.tour_mnist
        cfg = exp.make_config(args.preset, overrides)
        print(f"== {exp.name} ({args.preset}, {overrides or 'defaults'})", flush=True)
        run_dir = execute(
            exp,
            cfg,
            preset=args.preset,
            seed=args.seed,
            device="cpu",
            out=Path(args.out),
            quiet=args.quiet,
            tensorboard=wanted(),  # NNLAB_TENSORBOARD=1
        )
        _print_result(run_dir)
    print(f"index: {render_index(Path(args.out)).resolve()}")


def cmd_report(args: argparse.Namespace) -> None:
    from nnlab.report.render import render_index, render_run

    path = Path(args.path)
    if not path.is_dir():
        raise UserError(f"{path} is not a directory; pass a run directory or a folder of runs")
    if (path / "config.json").exists():
        print(render_run(path))
    else:
        print(render_index(path))


def cmd_data(args: argparse.Namespace) -> None:
    import nnlab.data as data

    if args.data_command == "fetch":
        for name, path in data.fetch(args.name, progress=not args.quiet).items():
            print(f"{name}: {path}")
        return
    verify = args.data_command == "verify"
    statuses = data.status(getattr(args, "name", None), verify=verify)
    rows = []
    for s in statuses:
        verified = {True: "ok", False: "CORRUPT", None: "-"}[s.verified]
        rows.append(
            (
                s.name,
                "yes" if s.present else "no",
                s.source or "-",
                verified,
                s.where or "-",
                s.message or "",
            )
        )
    print(
        "\n".join(text_table(["dataset", "present", "source", "verified", "where", "note"], rows))
    )
    if verify and any(s.verified is False for s in statuses):
        raise UserError("some dataset files are corrupt (see above); restore or re-fetch them")


def cmd_course(args: argparse.Namespace) -> None:
    from nnlab.course import render

    if args.runs is not None and not Path(args.runs).is_dir():
        raise UserError(f"--runs {args.runs} is not a directory; pass the --out of `nnlab run`")
    sys.stdout.write(render(args.seed, Path(args.runs or "runs")))


def cmd_conv_shape(args: argparse.Namespace) -> None:
    from nnlab.numerics.convshape import conv_shape_main

    print(conv_shape_main(args.input, args.layers))


def cmd_count_params(args: argparse.Namespace) -> None:
    from nnlab.models.gpt import parameter_comparison

    size = {
        "vocab_size": args.vocab,
        "block_size": args.block,
        "n_layer": args.layers,
        "n_head": args.heads,
        "n_embd": args.embd,
    }
    try:
        styles, rows = parameter_comparison(size)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(", ".join(f"{k} {v}" for k, v in size.items()))
    print("\n".join(text_table(["module", *styles], rows)))


def cmd_precision(args: argparse.Namespace) -> None:
    from nnlab.training.precision import describe

    print("\n".join(describe(measure=not args.no_probe)))


def cmd_generate(args: argparse.Namespace) -> None:
    from nnlab.training.lm import stream_text

    if args.tokens < 0:
        raise UserError(f"--tokens must be >= 0, got {args.tokens}")
    if args.temperature <= 0:
        raise UserError(f"--temperature must be > 0, got {args.temperature}")
    if args.top_k < 0:
        raise UserError(f"--top-k must be >= 0 (0: all characters), got {args.top_k}")
    options = ("prompt", "tokens", "temperature", "top_k", "seed", "device")
    for text in stream_text(Path(args.run_dir), **{k: getattr(args, k) for k in options}):
        sys.stdout.write(text)
        sys.stdout.flush()
    sys.stdout.write("\n")


def cmd_sample(args: argparse.Namespace) -> None:
    from nnlab.diffusion.pipeline import sample_from_run

    options = ("sampler", "steps", "eta", "n", "label", "guidance", "seed", "device")
    path, note = sample_from_run(Path(args.run_dir), **{k: getattr(args, k) for k in options})
    if note:
        print(f"note: {note}", file=sys.stderr)
    print(path)


def cmd_ocr(args: argparse.Namespace) -> None:
    import io

    from nnlab.io import atomic_write_bytes, open_image
    from nnlab.ocr import character_classifier, load_run_classifier
    from nnlab.ocr.read import read_image_file
    from nnlab.viz.ocr import annotate_page

    image = Path(args.image)
    if not image.is_file():  # before a classifier is loaded
        raise UserError(f"image {image} does not exist")
    open_image(image).close()  # an unreadable image or a decompression bomb, before that too
    model = Path(args.model) if args.model else None
    classifier = load_run_classifier(model) if model else character_classifier()
    reading, page = read_image_file(image, classifier)
    out = Path(args.out) if args.out else image.with_name(f"{image.stem}.ocr.png")
    buffer = io.BytesIO()
    annotate_page(page, reading.boxes, reading.chars).save(buffer, format="PNG")
    atomic_write_bytes(out, buffer.getvalue())
    if reading.text:
        print(reading.text)
    else:
        print("(no letters found: the page looks blank)", file=sys.stderr)
    print(f"boxes: {out}", file=sys.stderr)  # stdout holds only the text: `> page.txt`


def cmd_retrain(args: argparse.Namespace) -> None:
    from nnlab.data import trained

    trained.run(args)


def cmd_playground(args: argparse.Namespace) -> None:
    from nnlab.playground import server

    server.check_web_extra()
    sock = server.bind(args.host, args.port, allow_remote=args.allow_remote)
    token = None if server.is_loopback(sock) else secrets.token_urlsafe(24)
    reach = "other machines can reach it: every request needs this token; " if token else ""
    print(f"nnlab playground: {server.url_of(sock, token)} ({reach}Ctrl+C stops it)", flush=True)
    server.run(sock, open_browser=args.open, token=token)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnlab",
        description="A deep-learning lab: every experiment of an introductory course, from "
        "back-propagation by hand to a character GPT and a diffusion model, one command each. "
        "Start with `nnlab list` (the chapters in course order) and `nnlab run perceptron`.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="the experiments, chapter by chapter")
    p.add_argument("--json", action="store_true", help="every field of every experiment, as JSON")
    p.add_argument("--seed", metavar="NNN", help="only those answering seed document NNN (000-004)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("describe", help="show an experiment's settings and presets")
    p.add_argument("experiment")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser(
        "run",
        help="run an experiment, or resume an interrupted run",
        description="Run EXPERIMENT with a preset and overrides, "
        "or continue an interrupted run with --resume RUN_DIR.",
    )
    p.add_argument("experiment", nargs="?", help="experiment name (see `nnlab list`)")
    p.add_argument(
        "--preset",
        default="quick",
        choices=["smoke", "quick", "full"],
        help="smoke: seconds; quick: CPU minutes (default); full: the seed's setup",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field (repeatable); `nnlab describe EXP` lists them",
    )
    p.add_argument(
        "--config", metavar="FILE.json", help="a JSON object of settings, applied before --set"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--out", default="runs", help="root of run directories (default runs/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard events into the run directory (or NNLAB_TENSORBOARD=1; "
        "needs nnlab[tensorboard])",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tour", help="run every experiment on embedded data and index the runs")
    p.add_argument("--preset", default="quick", choices=["smoke", "quick", "full"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_tour)

    p = sub.add_parser(
        "course",
        help="every question of the course documents: its command and nnlab's measured answer",
        description="For each seed document (000-004), every question, problem and exercise in "
        "its own order: the command that answers it, the document's own number, and the answer "
        "of the latest completed matching run under runs/ (or 'not run yet').",
    )
    p.add_argument("seed", nargs="?", metavar="SEED", help="one document: 000, 001, 002, 003, 004")
    p.add_argument("--runs", metavar="DIR", help="root of run directories (default runs/)")
    p.set_defaults(func=cmd_course)

    p = sub.add_parser(
        "conv-shape",
        help="print each layer's output shape, parameters and arithmetic",
        description="e.g. nnlab conv-shape 50x50 conv:k=4,s=1,p=1 pool:k=2,s=1",
        epilog="layers: conv:c=OUT,k=K,s=S,p=P,d=D | pool:k=K,s=S,p=P,d=D,ceil | "
        "avgpool:k=K,s=S,p=P,ceil | fc:n=OUT (k, s, p, d: N or HxW; pool stride defaults to k)",
    )
    p.add_argument("input", metavar="INPUT", help="HxW or CxHxW, e.g. 50x50 or 1x28x28")
    p.add_argument("layers", nargs="+", metavar="LAYER", help="conv:..., pool:..., fc:n=...")
    p.set_defaults(func=cmd_conv_shape)

    p = sub.add_parser(
        "count-params",
        help="parameters of a GPT configuration, under nanoGPT's and the lecture's conventions",
        description="Defaults: the seed's character GPT (65 characters, block 256, 6 layers, "
        "6 heads, 384 wide).",
    )
    for flag, default in [
        ("vocab", 65),
        ("block", 256),
        ("layers", 6),
        ("heads", 6),
        ("embd", 384),
    ]:
        p.add_argument(f"--{flag}", type=int, default=default, metavar="N")
    p.set_defaults(func=cmd_count_params)

    p = sub.add_parser(
        "generate",
        help="sample text from a trained char-gpt run, streamed as it is drawn",
        description="e.g. nnlab generate runs/char-gpt/RUN --prompt ROMEO: --tokens 500",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a char-gpt run directory")
    p.add_argument("--prompt", default="", help="text to continue (default: a newline)")
    p.add_argument("--tokens", type=int, default=500, help="characters to sample (500)")
    p.add_argument("--temperature", type=float, default=0.8, help="below 1: safer (0.8)")
    p.add_argument("--top-k", type=int, default=200, help="sample among the k likeliest (200)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same text")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda", "mps"])
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "sample",
        help="draw images from a trained ddpm run and save them as a PNG grid",
        description="e.g. nnlab sample runs/ddpm/RUN --sampler ddim --steps 50 --n 64",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a ddpm run directory")
    p.add_argument("--sampler", default="ddim", help="ddpm (all T steps) or ddim (default)")
    p.add_argument("--steps", type=int, default=50, help="DDIM steps, 1..T (default 50)")
    p.add_argument("--eta", type=float, default=0.0, help="DDIM noise, 0 (default) to 1")
    p.add_argument("--n", type=int, default=64, help="images (default 64)")
    p.add_argument(
        "--label",
        type=int,
        help="class to draw (class-conditional runs; default: one at random per image)",
    )
    p.add_argument("--guidance", type=float, default=2.0, help="guidance weight with --label")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same images")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda", "mps"])
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "ocr",
        help="read the text of a page image (0-9, A-Z and . , -) and draw its boxes",
        description="e.g. nnlab ocr page.jpg > page.txt; prints the text (only the text goes "
        "to stdout), and on stderr the path of the image with numbered boxes and the "
        "characters read (IMAGE.ocr.png beside it by default)",
    )
    p.add_argument("image", metavar="IMAGE", help="any image Pillow opens (PNG, JPEG, ...)")
    p.add_argument(
        "--model",
        metavar="RUN_DIR",
        help="an ocr, lenet (chars36) or numpy-classifier run's classifier",
    )
    p.add_argument("--out", metavar="FILE.png", help="where to write the annotated image")
    p.set_defaults(func=cmd_ocr)

    p = sub.add_parser(
        "retrain",
        help="rebuild the trained parts nnlab ships (OCR classifier, Fréchet extractors)",
        description="Train by the recipes in the code and write nnlab/trained/FAMILY/*.pt and "
        "their manifest (SHA-256, recipe, accuracy); e.g. nnlab retrain frechet --recipe mnist "
        "(MNIST and Fashion-MNIST need NNLAB_DATA)",
    )
    p.add_argument("family", choices=["ocr", "frechet"], help="which parts to rebuild")
    p.add_argument(
        "--recipe",
        action="append",
        metavar="KEY",
        help="only this recipe (repeatable): chars36-cnn, chars36-cnn-small; mnist, "
        "fashion-mnist, digits",
    )
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser(
        "precision",
        help="what precision=auto chooses here, and bf16 against fp32 matmul speed, measured",
        description="Print the CPU's bfloat16 support, what the precision setting's auto "
        "resolves to (and its cached probe), then matmul GFLOP/s in float32 and bfloat16 at "
        "the sizes nnlab's models use.",
    )
    p.add_argument("--no-probe", action="store_true", help="skip the timed table")
    p.set_defaults(func=cmd_precision)

    p = sub.add_parser("report", help="render the report of a run, or an index of runs")
    p.add_argument("path", help="a run directory, or a directory holding runs")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "playground",
        help="a web page that trains the NumPy engine live (needs the web extra)",
        description="Serve the playground page; open the printed address in a browser.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1; see --allow-remote)"
    )
    p.add_argument("--port", type=int, default=8765, help="port (8765; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach; every request then needs the printed token",
    )
    p.set_defaults(func=cmd_playground)

    p = sub.add_parser("data", help="list, fetch and verify datasets")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    q = data_sub.add_parser("list", help="what is present, where, and its source")
    q.set_defaults(func=cmd_data)
    q = data_sub.add_parser("fetch", help="download a dataset into the cache")
    q.add_argument("name")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(func=cmd_data)
    q = data_sub.add_parser("verify", help="check SHA-256 digests of dataset files")
    q.add_argument("name", nargs="?")
    q.set_defaults(func=cmd_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UserError as exc:
        # one write per line: the ranks of a torchrun job share stderr, and print() writes the
        # message and its newline separately, so two ranks could interleave them
        sys.stderr.write(f"nnlab: error: {exc}\n")
        sys.stderr.flush()
        return 2
    except KeyboardInterrupt:
        print("nnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `nnlab list | head`: the reader has all it wants
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the interpreter's flush
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Data-parallel training with PyTorch's DDP (nnlab.training.distributed) and the runner under
torchrun.

Two CPU processes (gloo) train the tiny GPT of tests/ddp_probe.py. They hold identical
weights afterwards, and each step's loss matches one process training on the same global
batches to within LOSS_RTOL: the all-reduce of the gradients (and averaging two half-batch
losses) only changes the order of float32 sums. Measured on 40 AdamW steps: at most 2.0e-7
relative (4.3e-8 at the first step), weights within 2.0e-6; the tolerance is ten times that.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from needs import need
from nnlab.errors import ConfigError, UserError
from nnlab.training.distributed import World
from nnlab.training.threads import cores, torch_threads

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "ddp_probe.py"
LOSS_RTOL = 2e-6
WEIGHT_ATOL = 2e-5

dist = torch.distributed
if not (dist.is_available() and dist.is_gloo_available()):
    need("torch.distributed with the gloo backend is not available")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def _by_hand(*args: str, n: int = 2) -> list[subprocess.CompletedProcess]:
    """`python ddp_probe.py ARGS` as ranks 0..n-1, with the environment torchrun would set
    (no torchrun agent: rank 0 hosts the store)."""
    job = {"WORLD_SIZE": str(n), "LOCAL_WORLD_SIZE": str(n), "MASTER_ADDR": "127.0.0.1"}
    job["MASTER_PORT"] = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(PROBE), *args],
            env=_env(**job, RANK=str(r), LOCAL_RANK=str(r)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(n)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`torchrun --nproc-per-node 2 ddp_probe.py nnlab ARGS` (the `nnlab` command, knowing
    the ddp-probe experiment)."""
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
        str(PROBE), "nnlab", *args,
    ]  # fmt: skip
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120)


def _two_nodes(*args: str, cwd: Path) -> list[subprocess.CompletedProcess]:
    """`torchrun --nnodes 2 --node-rank R --nproc-per-node 1 ddp_probe.py ARGS` for R = 0, 1:
    two torchrun agents as two machines would run them (here both on 127.0.0.1), meeting at
    node 0's rendezvous endpoint."""
    port = str(_free_port())
    cwd.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "2",
                "--node-rank",
                str(node),
                "--nproc-per-node",
                "1",
                "--master-addr",
                "127.0.0.1",
                "--master-port",
                port,
                str(PROBE),
                *args,
            ],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for node in (0, 1)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _exit_codes(torchrun_stderr: str) -> list[int]:
    """The workers' exit codes in torchrun's failure summary."""
    return [int(c) for c in re.findall(r"exitcode\s*:\s*(-?\d+)", torchrun_stderr)]


def _no_worker_traceback(stderr: str) -> None:
    frames = re.findall(r'File "([^"]+)"', stderr)  # torchrun's own traceback is allowed
    assert not [f for f in frames if "nnlab" in Path(f).parts or f == str(PROBE)], stderr


# ------------------------------------------------------------------------------- World


def test_shard_slices_a_global_batch_evenly_or_refuses():
    batch = torch.arange(12).reshape(6, 2)
    parts = [World(r, 3).shard(batch) for r in range(3)]
    assert [p[:, 0].tolist() for p in parts] == [[0, 2], [4, 6], [8, 10]]
    assert torch.equal(torch.cat(parts), batch)
    assert World().shard(batch) is batch
    with pytest.raises(ConfigError, match="global batch of 5 cannot be split evenly over 2"):
        World(0, 2).shard(torch.zeros(5, 3))


def test_without_torchrun_nothing_is_set_up_and_torch_is_not_imported():
    code = (
        "import sys\n"
        "from nnlab.training.distributed import fail_together, from_environment, launched, world\n"
        "with launched(None) as device, fail_together():\n"
        "    assert device is None and world().size == from_environment().size == 1\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env())


# ------------------------------------------------------------------ the Run on other ranks


def test_a_run_on_other_ranks_writes_nothing_and_resumes_from_rank_0s_files(tmp_path):
    from nnlab.runs.run import Run

    main = Run(tmp_path, seed=0, device=torch.device("cpu"), quiet=True)
    for step in range(3):
        main.log(step, train_loss=1.0 / (step + 1))
    main.save_checkpoint({"step": 2})
    main.log(3, train_loss=0.2)  # after the checkpoint: rewound on resume
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))

    other = Run(tmp_path, seed=0, device=torch.device("cpu"), quiet=True, writer=False)
    assert other.load_checkpoint()["step"] == 2
    assert other.history() == main.history()[:3]
    other.log(3, train_loss=0.25)
    assert other.history()[-1] == {"step": 3, "train_loss": 0.25}
    other.save_checkpoint({"step": 3})
    assert other.save_model("best", {"w": torch.zeros(2)}) == tmp_path / "checkpoints/best.pt"
    assert other.write_text("tokenizer.json", "{}") == tmp_path / "tokenizer.json"
    assert other.figure("curves", object(), "never drawn") == tmp_path / "figures/curves.png"
    assert other.bar(range(3)).disable
    with pytest.raises(UserError, match="train_loss became nan at step 4"):
        other.log(4, train_loss=float("nan"))  # every rank stops, not only rank 0
    after = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    assert after == before


def test_experiments_that_do_not_train_data_parallel_refuse_torchrun(tmp_path, monkeypatch):
    from nnlab.experiments import registry
    from nnlab.runs.runner import execute

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    for name in ("regularization", "xor"):  # PyTorch and NumPy engine
        exp = registry()[name]
        with pytest.raises(UserError, match=f"{name} does not train data-parallel"):
            execute(exp, exp.make_config("smoke"), preset="smoke", seed=0, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------- several processes


@pytest.mark.slow
def test_two_ranks_hold_equal_weights_and_match_one_process(tmp_path):
    steps = 40
    for p in _by_hand("train", str(tmp_path), str(steps)):
        assert p.returncode == 0, p.stderr
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [tuple(r["world"]) for r in ranks] == [(0, 2, "gloo"), (1, 2, "gloo")]
    assert ranks[0]["threads"] == ranks[1]["threads"] == max(1, cores() // 2)
    for name, w0 in ranks[0]["weights"].items():
        assert torch.equal(w0, ranks[1]["weights"][name]), name  # bit for bit
    assert ranks[0]["losses"] == ranks[1]["losses"]

    from ddp_probe import train

    with torch_threads(1):
        losses, weights = train(World(), steps)
    assert losses[-1] < 0.3 * losses[0]  # it learns: 2.77 -> 0.53
    for step, (two, one) in enumerate(zip(ranks[0]["losses"], losses, strict=True)):
        assert abs(two - one) <= LOSS_RTOL * abs(one), (step, two, one)
    for name, w in weights.items():
        torch.testing.assert_close(ranks[0]["weights"][name], w, rtol=0, atol=WEIGHT_ATOL)


@pytest.mark.slow
def test_two_nodes_hold_equal_weights_and_match_one_process(tmp_path):
    """Two torchrun agents (--nnodes 2, one process each), as on two machines: the same
    result as one process, within the one-machine test's tolerances."""
    steps = 40
    for node in _two_nodes("train", str(tmp_path), str(steps), cwd=tmp_path / "cwd"):
        assert node.returncode == 0, node.stderr
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [tuple(r["world"]) for r in ranks] == [(0, 2, "gloo"), (1, 2, "gloo")]
    assert ranks[0]["threads"] == ranks[1]["threads"] == cores()  # one process per node
    for name, w0 in ranks[0]["weights"].items():
        assert torch.equal(w0, ranks[1]["weights"][name]), name

    from ddp_probe import train

    with torch_threads(1):
        losses, weights = train(World(), steps)
    worst = max(
        abs(two - one) / abs(one) for two, one in zip(ranks[0]["losses"], losses, strict=True)
    )
    gap = max(float((ranks[0]["weights"][k] - w).abs().max()) for k, w in weights.items())
    print(f"two nodes vs one process: loss {worst:.2e} relative, weights {gap:.2e}")
    assert worst <= LOSS_RTOL and gap <= WEIGHT_ATOL


@pytest.mark.slow
def test_nnlab_run_on_two_nodes_records_them_and_repeats_the_one_node_run(tmp_path, uninterrupted):
    root, reference = uninterrupted
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "runs"
    nodes = _two_nodes(
        "nnlab", "run", "ddp-probe", "--preset", "smoke", "--device", "cpu", "--quiet",
        "--out", str(out), cwd=tmp_path / "cwd",
    )  # fmt: skip
    for node in nodes:
        assert node.returncode == 0, node.stderr
    assert nodes[0].stdout.count("run directory:") == 1 and "run directory:" not in nodes[1].stdout
    (run_dir,) = (out / "ddp-probe").iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    fields = {k: config[k] for k in ("world_size", "backend", "nnodes", "device")}
    print(f"two-node config.json: {fields}")
    assert fields == {"world_size": 2, "backend": "gloo", "nnodes": 2, "device": "cpu"}
    (ref_dir,) = (root / "runs" / "ddp-probe").iterdir()
    assert json.loads((ref_dir / "config.json").read_text())["nnodes"] == 1
    # the same two ranks as on one machine, but each with all the cores (2 torch threads, not
    # 1): float32 sums in another order, so equal within the tolerance of the tests above
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    ref = [json.loads(x) for x in (ref_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [x["step"] for x in ref] == list(range(12))
    worst = max(
        abs(a["train_loss"] - b["train_loss"]) / b["train_loss"]
        for a, b in zip(lines, ref, strict=True)
    )
    print(f"two nodes vs one node (nnlab run ddp-probe): train_loss within {worst:.2e} relative")
    assert worst <= LOSS_RTOL
    assert json.loads((run_dir / "summary.json").read_text())["ranks_agree"] is True


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A 2-process `nnlab run ddp-probe --preset smoke` (12 steps) under torchrun."""
    root = tmp_path_factory.mktemp("ddp")
    done = _torchrun(
        "run", "ddp-probe", "--preset", "smoke", "--device", "cpu", "--quiet",
        "--out", str(root / "runs"), cwd=root / "cwd",
    )  # fmt: skip
    return root, done


@pytest.mark.slow
def test_torchrun_writes_one_run_directory_with_rank_0s_files(uninterrupted):
    root, done = uninterrupted
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("run directory:") == 1  # rank 0 speaks for the run
    assert not any((root / "cwd").iterdir())  # no stray runs/ in the working directory
    (run_dir,) = (root / "runs" / "ddp-probe").iterdir()
    assert sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) == sorted(
        Path("runs/ddp-probe") / run_dir.name / f
        for f in [
            "config.json", "status.json", "summary.json", "metrics.jsonl", "report.html",
            "run.lock", "report.md", "probe.txt", "checkpoints/last.pt", "checkpoints/probe.pt",
            "figures/captions.json", "figures/probe.png", "figures/learning_curves.png",
        ]
    )  # fmt: skip
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["world_size"], config["backend"], config["device"]) == (2, "gloo", "cpu")
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(12))  # once, not once per rank
    assert (run_dir / "probe.txt").read_text() == "written by rank 0\n"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["ranks_agree"] is True
    assert summary["train_loss"] == lines[-1]["train_loss"] < lines[0]["train_loss"]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "completed" and status["timings"] == {"train_seconds": 0.5}


@pytest.mark.slow
def test_an_error_on_one_rank_ends_both_and_the_run_resumes_identically(uninterrupted):
    root, reference = uninterrupted
    assert reference.returncode == 0, reference.stderr
    out = root / "failed"
    done = _torchrun(
        "run", "ddp-probe", "--preset", "smoke", "--device", "cpu", "--quiet", "--out", str(out),
        "--set", "fail_rank=1", "--set", "fail_step=6", cwd=root / "cwd",
    )  # fmt: skip
    assert done.returncode != 0  # torchrun reports any failed worker
    codes = _exit_codes(done.stderr)  # its log line, then ranks 0 and 1
    assert set(codes) == {2} and len(codes) >= 2, codes
    errors = [x for x in done.stderr.splitlines() if x.startswith("nnlab: error:")]
    assert sorted(errors) == [
        "nnlab: error: probe fails on purpose at step 6",  # rank 1
        "nnlab: error: process 1: probe fails on purpose at step 6",  # rank 0, relayed
    ]
    _no_worker_traceback(done.stderr)
    (run_dir,) = (out / "ddp-probe").iterdir()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed"
    assert status["error"] == "process 1: probe fails on purpose at step 6"
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 6  # steps 0-5

    resumed = _torchrun("run", "--resume", str(run_dir), "--device", "cpu", cwd=root / "cwd")
    assert resumed.returncode == 0, resumed.stderr
    (ref_dir,) = (root / "runs" / "ddp-probe").iterdir()
    for name in ("metrics.jsonl", "summary.json"):
        assert (run_dir / name).read_text() == (ref_dir / name).read_text(), name
    assert json.loads((run_dir / "status.json").read_text())["resumes"] == 1


@pytest.mark.slow
def test_bad_input_on_every_rank_is_one_line_exit_2_and_leaves_nothing(tmp_path):
    out = tmp_path / "runs"
    done = _torchrun(
        "run", "ddp-probe", "--preset", "smoke", "--device", "cpu", "--out", str(out),
        "--set", "batch_size=5", cwd=tmp_path / "cwd",
    )  # fmt: skip
    message = (
        "nnlab: error: a global batch of 5 cannot be split evenly over 2 processes; "
        "choose a batch size divisible by 2"
    )
    assert done.stderr.splitlines().count(message) == 2  # each rank says it once
    codes = _exit_codes(done.stderr)
    assert set(codes) == {2} and len(codes) >= 2, codes
    _no_worker_traceback(done.stderr)
    assert not out.exists()
    assert not any((tmp_path / "cwd").iterdir())


# ------------------------------------------------------------------- the classifier loops

# Two gloo ranks against one process, on the smoke presets (digits: 1347 training images, so
# each epoch ends with a batch of 3 split 2 + 1) with the random parts DDP cannot reproduce
# switched off: dropout (every rank draws the same mask for its own slice, see
# DISTRIBUTED.md) and batch norm (on the CPU each rank normalises its slice with the slice's
# statistics; SyncBatchNorm needs GPUs). What remains is float32 sums in another order (two
# slice sums and an all-reduce instead of one sum), carried by Adam through 63-126 steps.
# Measured: losses within 5.8e-7 relative (lenet's CNN test loss; the MLP 1.5e-7),
# accuracies equal. The tolerance is ten times the worst, 6e-6 relative; an accuracy may move
# by one test image (1/450) should a prediction sit on a tie between two classes.
# float32: this tolerance is float32's (`precision=auto` picks bfloat16 on a CPU that has it,
# and bfloat16 rounds the two ways' slices apart by 1.5e-5; tests/test_precision.py holds it)
CLASSIFIERS = {
    "mlp-classifier": ["dropout=0", "precision=fp32"],
    "cnn-mnist": ["dropout=0", "batchnorm=false", "precision=fp32"],
    "lenet": ["precision=fp32"],
}
CLASSIFIER_RTOL = 6e-6
ONE_IMAGE = 1 / 450 + 1e-12  # digits' test split


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_classifier_on_two_ranks_matches_one_process(name, tmp_path):
    sets = [x for s in CLASSIFIERS[name] for x in ("--set", s)]
    args = ["run", name, "--preset", "smoke", "--device", "cpu", "--quiet", *sets]
    done = _torchrun(*args, "--out", str(tmp_path / "two"), cwd=tmp_path / "cwd")
    assert done.returncode == 0, done.stderr
    from nnlab.cli import main

    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    (two,) = (tmp_path / "two" / name).iterdir()
    (one,) = (tmp_path / "one" / name).iterdir()
    assert json.loads((two / "config.json").read_text())["world_size"] == 2
    lines = {
        d: [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
        for d in (one, two)
    }
    assert [x.keys() for x in lines[two]] == [x.keys() for x in lines[one]]
    worst: dict[str, float] = {}
    for a, b in zip(lines[two], lines[one], strict=True):
        for key, value in b.items():
            if key == "step":
                continue
            gap = abs(a[key] - value) / max(abs(value), 1e-12)
            worst[key] = max(worst.get(key, 0.0), gap)
            if "accuracy" in key:
                assert abs(a[key] - value) <= ONE_IMAGE, (key, a[key], value)
            else:
                assert gap <= CLASSIFIER_RTOL, (key, a[key], value)
    print(f"{name}: two ranks vs one process, worst relative gaps {worst}")
    s1, s2 = (json.loads((d / "summary.json").read_text()) for d in (one, two))
    headline = json.loads((one / "config.json").read_text())["headline"]["metric"]
    print(f"{name}: {headline} one process {s1[headline]}, two ranks {s2[headline]}")
    assert abs(s1[headline] - s2[headline]) <= ONE_IMAGE

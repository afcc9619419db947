"""nnlab playground: the API (FastAPI TestClient), its validation, the frames and the export."""

from __future__ import annotations

import json
import re
import socket
import sys

import numpy as np
import pytest

from needs import need

try:
    from fastapi.testclient import TestClient
except ImportError as exc:
    need(f"the playground needs the web extra (pip install -e .[web]): {exc}")

from nnlab.cli import main
from nnlab.playground.app import SessionStore, create_app
from nnlab.playground.session import (
    GRID,
    THUMB_STRIDE,
    WARP_LINES,
    WARP_SAMPLES,
    Session,
    _coordinates,
    features,
)
from nnlab.playground.settings import MAX_POINTS, Settings

JSON = {"Content-Type": "application/json"}
LOCAL = "http://127.0.0.1"  # the test client's default Host, testserver, is refused
SPIRAL = {"dataset": "spiral", "hidden": [8, 8], "activations": ["tanh", "tanh"]}


@pytest.fixture()
def client():
    with TestClient(create_app(SessionStore(limit=4)), base_url=LOCAL) as c:
        yield c


def new_session(client: TestClient, **settings) -> str:
    res = client.post("/api/sessions", json=settings or None)
    assert res.status_code == 200, res.text
    return res.json()["id"]


def frames(client: TestClient, sid: str, n: int) -> list[dict]:
    out = []
    with client.stream("GET", f"/api/sessions/{sid}/stream?max_frames={n}") as res:
        assert res.headers["content-type"].startswith("text/event-stream")
        for line in res.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def decode(b64: str) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8)


def test_page_and_its_files_are_served_with_nothing_from_the_network(client):
    html = client.get("/").text
    assert '<canvas id="heatmap"' in html and "/static/app.js" in html
    remote = re.compile(
        r"""(src|href)\s*=\s*["']?(https?:)?//|url\(["']?https?:|fetch\(["'`]https?:"""
    )
    assert not remote.search(html)
    for name in ("app.js", "style.css"):
        res = client.get(f"/static/{name}")
        assert res.status_code == 200 and len(res.text) > 1000
        assert not remote.search(res.text), remote.search(res.text)  # no CDN


def test_default_frame_has_every_picture_and_the_weights(client):
    sid = new_session(client)
    f = client.get(f"/api/sessions/{sid}/frame").json()
    thumb = (GRID // THUMB_STRIDE) ** 2
    assert decode(f["output"]["value"]).size == GRID * GRID
    assert [len(layer) for layer in f["neurons"]] == [4, 4]
    assert all(decode(t).size == thumb for layer in f["neurons"] for t in layer)
    assert sorted(f["inputs"]) == sorted(["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2"])
    shapes = [np.array(w).shape for w in f["weights"]]
    assert shapes == [(2, 4), (4, 4), (4, 1)]
    assert len(f["points"]) == 500 and sum(p[3] for p in f["points"]) == 250
    assert f["epoch"] == 0 and f["history_from"] == 0 and len(f["history"]) == 1
    assert np.array(f["confusion"]).sum() == 250  # the test half
    # a page that has this frame's points and history gets neither again
    again = client.get(
        f"/api/sessions/{sid}/frame",
        params={"since": 1, "history_key": f["history_key"], "data_version": f["data_version"]},
    ).json()
    assert "points" not in again and again["history"] == [] and again["history_from"] == 1


def test_heat_map_is_one_batched_forward_pass_equal_to_the_model():
    session = Session(Settings(hidden=[5, 3], activations=["relu", "softplus"], seed=3))
    out, hidden = session.neuron_maps()
    grid = np.linspace(-6, 6, GRID)
    idx = [0, 77, GRID * GRID - 1]
    pts = np.array([[grid[i % GRID], grid[::-1][i // GRID]] for i in idx])
    x = features(pts, ["x1", "x2"])
    layers = session.model.layers
    h1 = layers[1].forward(layers[0].forward(x, training=False))
    h2 = layers[3].forward(layers[2].forward(h1))
    np.testing.assert_allclose(hidden[0][idx], h1, rtol=1e-12)
    np.testing.assert_allclose(hidden[1][idx], h2, rtol=1e-12)
    np.testing.assert_allclose(out[idx], session.model.predict(x), rtol=1e-12)


def test_playing_streams_frames_and_learns_the_circle(client):
    sid = new_session(client)
    assert client.post(f"/api/sessions/{sid}/control", json={"action": "play"}).status_code == 200
    got = frames(client, sid, 6)
    epochs = [f["epoch"] for f in got]
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0] >= 1
    assert got[0]["history_from"] == 0 and all(f["history_from"] > 0 for f in got[1:])
    history = got[0]["history"] + [r for f in got[1:] for r in f["history"]]
    assert [r["epoch"] for r in history] == list(range(epochs[-1] + 1))  # none lost, none twice
    client.post(f"/api/sessions/{sid}/control", json={"action": "pause"})
    for _ in range(60):
        client.post(f"/api/sessions/{sid}/control", json={"action": "step"})
    latest = client.get(f"/api/sessions/{sid}/frame").json()["latest"]
    assert latest["test_acc"] > 0.9 and latest["test_loss"] < 0.2, latest


def test_stop_condition_pauses_below_the_test_loss():
    session = Session(Settings(dataset="circle", optimizer="adam", stop_loss=0.3))
    session.control("play")
    for _ in range(400):
        session.advance(0.01)
        if not session.playing:
            break
    assert not session.playing and session.message.startswith("stopped at epoch")
    assert session.latest["test_loss"] < 0.3 <= session.history[-2]["test_loss"]


def test_changing_the_learning_rate_keeps_the_network_changing_layers_resets_it(client):
    sid = new_session(client)
    for _ in range(3):
        client.post(f"/api/sessions/{sid}/control", json={"action": "step"})
    before = client.get(f"/api/sessions/{sid}/frame").json()
    client.put(f"/api/sessions/{sid}/settings", json={"learning_rate": 0.1})
    after = client.get(f"/api/sessions/{sid}/frame").json()
    assert after["epoch"] == 3 and after["weights"] == before["weights"]
    assert after["run"] == before["run"]
    client.put(f"/api/sessions/{sid}/settings", json={"learning_rate": 0.1, "hidden": [4, 2]})
    reset = client.get(f"/api/sessions/{sid}/frame").json()
    assert reset["epoch"] == 0 and reset["run"] == before["run"] + 1
    assert (
        "points"
        not in client.get(
            f"/api/sessions/{sid}/frame", params={"data_version": reset["data_version"]}
        ).json()
    )
    client.put(f"/api/sessions/{sid}/settings", json={"hidden": [4, 2], "noise": 30})
    assert client.get(f"/api/sessions/{sid}/frame").json()["data_version"] > reset["data_version"]


def test_clicked_points_and_a_csv_with_three_classes(client):
    sid = new_session(client)
    res = client.post(f"/api/sessions/{sid}/points", json={"x1": 1.5, "x2": -2, "label": 1})
    assert res.json() == {"points": 501}
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["settings"]["dataset"] == "custom" and f["points"][-1] == [1.5, -2.0, 1, True]
    rows = ["x1,x2,label"] + [f"{i % 7 - 3},{i % 5 - 2},{i % 3}" for i in range(60)]
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": "\n".join(rows)})
    assert res.json() == {"points": 60}
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["settings"]["classes"] == 3 and f["settings"]["loss"] == "cross_entropy"
    assert np.array(f["weights"][-1]).shape == (4, 3)
    assert set(f["output"]) == {"class", "confidence"}
    assert set(decode(f["output"]["class"])) <= {0, 1, 2}
    assert np.array(f["confusion"]).shape == (3, 3)
    assert client.post(f"/api/sessions/{sid}/control", json={"action": "clear"}).status_code == 200
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["points"] == [] and f["latest"]["test_loss"] is None  # nothing to train on
    client.post(f"/api/sessions/{sid}/control", json={"action": "step"})  # and no error


def test_a_link_with_custom_points_restores_them_with_their_split_and_classes(client):
    # the page creates the session from the link's settings, then sends the link's points
    sid = new_session(client, dataset="custom", classes=3, loss="cross_entropy")
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["points"] == [] and f["settings"]["dataset"] == "custom"
    rows = [[1.25, -2.5, 0, True], [-3.0, 4.75, 1, False], [0.0, 0.5, 1, True]]
    res = client.put(f"/api/sessions/{sid}/points", json={"points": rows})
    assert res.json() == {"points": 3}
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["points"] == rows  # the test point stays a test point
    assert f["settings"]["classes"] == 3 and f["settings"]["loss"] == "cross_entropy"
    assert np.array(f["confusion"]).shape == (3, 3) and np.array(f["confusion"]).sum() == 1
    # regression points from a link: values, squared error, no confusion matrix
    values = [[1.0, 1.0, 0.25, True], [-1.0, 2.0, -0.75, True], [2.0, -2.0, 1.0, False]]
    res = client.put(f"/api/sessions/{sid}/points", json={"target": "value", "points": values})
    assert res.status_code == 200, res.text
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["points"] == values and f["confusion"] is None
    assert f["settings"]["custom_target"] == "value" and f["settings"]["loss"] == "squared_error"
    assert f["settings"]["classes"] == 2
    # the points' kind is theirs: the settings cannot call these values labels
    res = client.put(f"/api/sessions/{sid}/settings", json={"dataset": "custom"})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "custom_target"]
    client.post(f"/api/sessions/{sid}/control", json={"action": "clear"})  # no points: either
    for target in ("value", "label"):
        body = {"dataset": "custom", "custom_target": target}
        assert client.put(f"/api/sessions/{sid}/settings", json=body).status_code == 200


def test_a_regression_csv_trains_on_real_targets(client):
    sid = new_session(client, dataset="plane")
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, (200, 2))
    value = np.tanh(x[:, 0] / 3) * 0.9  # a smooth real target in [-1, 1]
    rows = ["x1,x2,value"] + [f"{a:.3f},{b:.3f},{v:.4f}" for a, b, v in np.c_[x, value]]
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": "\n".join(rows)})
    assert res.json() == {"points": 200}
    f = client.get(f"/api/sessions/{sid}/frame").json()
    s = f["settings"]
    assert (s["dataset"], s["custom_target"], s["loss"]) == ("custom", "value", "squared_error")
    assert f["confusion"] is None and set(f["output"]) == {"value"}
    assert f["points"][0][2] == pytest.approx(value[0], abs=1e-4)
    assert isinstance(f["points"][0][2], float) and f["latest"]["test_acc"] is None
    first = f["latest"]["test_loss"]
    client.put(f"/api/sessions/{sid}/settings", json={**s, "optimizer": "adam"})
    for _ in range(30):
        client.post(f"/api/sessions/{sid}/control", json={"action": "step"})
    latest = client.get(f"/api/sessions/{sid}/frame").json()["latest"]
    assert latest["test_loss"] < 0.01 < first, (first, latest)
    assert "out[:, 0]  # the predicted value" in client.get(f"/api/sessions/{sid}/export.py").text
    # no header: the data in use decides (values here); a header switches back to labels
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": "0,0,0.5\n1,2,-0.25\n"})
    assert res.status_code == 200, res.text
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": "x1,x2,label\n0,0,1\n1,2,0\n"})
    f = client.get(f"/api/sessions/{sid}/frame").json()
    assert f["settings"]["custom_target"] == "label" and f["points"][0][2] == 1


@pytest.mark.parametrize(
    ("csv", "says"),
    [
        ("0,0,0.5\n", "line 1: label must be 0, 1, 2, 3 or 4 (real targets need the header"),
        ("x1,x2,value\n0,0,1\n3,3,1.5\n", "line 3: value must lie in [-1, 1]"),
        ("x1,x2,value\n0,0,nan\n", "line 2: value must lie in [-1, 1]"),
        ("a,b,c\n0,0,1\n", "line 1: the header must be x1,x2,label or x1,x2,value"),
        ("x1,x2,label\n0,0,1,2\n", "line 2: expected 3 columns x1,x2,label; got 4"),
        ("x1,x2,value\n", "no points in the file"),
    ],
)
def test_a_bad_csv_is_one_line_that_says_what_is_wrong(client, csv, says):
    sid = new_session(client)
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": csv})
    assert res.status_code == 422
    [detail] = res.json()["detail"]
    assert detail["loc"] == ["body", "csv"] and detail["msg"].startswith(says), detail
    assert "\n" not in detail["msg"]


def test_warp_maps_the_grid_lines_and_the_points_through_a_hidden_layer():
    session = Session(Settings(hidden=[2, 3], activations=["linear", "tanh"], seed=1))
    first, second = session.linears[0], session.linears[1]
    first.params["W"][:] = np.eye(2)
    first.params["b"][:] = 0.0
    w = session.warp(0)  # an identity layer leaves the grid and the points where they are
    lines = np.array(w["lines"])
    assert lines.shape == (2 * WARP_LINES, WARP_SAMPLES, 2)
    ticks = np.linspace(-6, 6, WARP_LINES)
    np.testing.assert_allclose(lines[:WARP_LINES, :, 0], np.repeat(ticks[:, None], 49, 1))
    np.testing.assert_allclose(lines[WARP_LINES:, :, 1], np.repeat(ticks[:, None], 49, 1))
    np.testing.assert_allclose(lines[0, :, 1], np.linspace(-6, 6, WARP_SAMPLES))
    np.testing.assert_allclose(np.array(w["points"]), session.X, atol=5e-4)
    # the second layer has 3 neurons: the view shows its first two, and says of how many
    w = session.warp(1)
    grid = lines.reshape(-1, 2)
    want = np.tanh(grid @ second.params["W"] + second.params["b"])[:, :2]
    np.testing.assert_allclose(np.array(w["lines"]).reshape(-1, 2), want, atol=5e-4)
    assert (w["layer"], w["neurons"], w["activation"]) == (1, 3, "tanh")
    assert w["data_version"] == session.data_version
    assert _coordinates(np.array([[np.nan, 1.23456], [np.inf, -2.0]])) == [
        [None, 1.235],
        [None, -2.0],
    ]


def test_warp_over_http_and_its_bad_layers(client):
    sid = new_session(client, hidden=[4, 1], activations=["relu", "tanh"])
    w = client.get(f"/api/sessions/{sid}/warp", params={"layer": 0}).json()
    assert len(w["lines"]) == 2 * WARP_LINES and len(w["points"]) == 500 and w["neurons"] == 4
    assert all(v is not None for line in w["lines"] for p in line for v in p)
    assert min(v for line in w["lines"] for p in line for v in p) >= 0  # ReLU
    for layer, says in ((1, "has one neuron"), (2, "has 2 hidden layers"), (8, "less than")):
        res = client.get(f"/api/sessions/{sid}/warp", params={"layer": layer})
        assert res.status_code == 422
        [detail] = res.json()["detail"]
        assert detail["loc"] == ["query", "layer"] and says in detail["msg"], detail


def test_editing_a_weight_changes_the_output(client):
    sid = new_session(client)
    before = client.get(f"/api/sessions/{sid}/frame").json()
    edit = {"layer": 2, "source": 1, "target": 0, "value": 3.5}
    assert client.post(f"/api/sessions/{sid}/weight", json=edit).status_code == 200
    after = client.get(f"/api/sessions/{sid}/frame").json()
    assert after["weights"][2][1][0] == 3.5
    assert after["output"]["value"] != before["output"]["value"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("settings", {"hidden": [4, 33], "activations": ["tanh", "tanh"]}, ["hidden", 1]),
        ("settings", {"hidden": [4] * 9, "activations": ["tanh"] * 9}, ["hidden"]),
        ("settings", {"hidden": [4], "activations": ["tanh", "relu"]}, "activations"),
        ("settings", {"activations": ["tanh", "swish"]}, ["activations", 1]),
        ("settings", {"learning_rate": 0}, ["learning_rate"]),
        ("settings", {"learning_rate": "fast"}, ["learning_rate"]),
        ("settings", {"dataset": "circle", "classes": 3}, "classes"),
        ("settings", {"dataset": "spiral", "classes": 4}, "loss"),
        ("settings", {"dataset": "plane", "loss": "cross_entropy"}, "loss"),
        ("settings", {"inputs": []}, ["inputs"]),
        ("settings", {"inputs": ["x1", "x1"]}, ["inputs"]),
        ("settings", {"colour": "red"}, ["colour"]),
        ("control", {"action": "explode"}, ["action"]),
        ("points", {"x1": 7, "x2": 0, "label": 0}, ["x1"]),
        ("points", {"x1": 0, "x2": 0, "label": 2}, ["label"]),
        ("weight", {"layer": 5, "source": 0, "target": 0, "value": 1}, ["layer"]),
        ("weight", {"layer": 0, "source": 3, "target": 0, "value": 1}, ["source"]),
        ("csv", {"csv": "1,2\n"}, ["csv"]),
        ("csv", {"csv": "0,0,1\n9,0,1\n"}, ["csv"]),
        ("csv", {"csv": "0,0,1\n1,1,7\n"}, ["csv"]),
        ("csv", {"csv": "x1,x2,value\n0,0,2\n"}, ["csv"]),
        ("settings", {"dataset": "plane", "custom_target": "value"}, "custom_target"),
        ("settings", {"dataset": "custom", "custom_target": "value", "classes": 3}, "classes"),
        ("settings", {"custom_target": "price"}, ["custom_target"]),
        ("PUT points", {"points": [[0, 0, 7, True]]}, ["points"]),
        ("PUT points", {"points": [[0, 0, 0.5, True]]}, ["points"]),
        ("PUT points", {"target": "value", "points": [[0, 0, 2, True]]}, ["points"]),
        ("PUT points", {"points": [[7, 0, 1, True]]}, ["points", 0, 0]),
        ("PUT points", {"points": [[0, 0, 1]]}, ["points", 0, 3]),
        ("PUT points", {"points": [[0, 0, 1, True]] * (MAX_POINTS + 1)}, ["points"]),
        ("PUT points", {"target": "colour", "points": []}, ["target"]),
    ],
)
def test_bad_input_is_a_422_that_names_the_field(client, path, body, field):
    sid = new_session(client)
    method, _, path = path.rpartition(" ")
    method = method or ("PUT" if path == "settings" else "POST")
    res = client.request(method, f"/api/sessions/{sid}/{path}", json=body)
    assert res.status_code == 422, res.text
    details = res.json()["detail"]
    if isinstance(field, str):  # a rule across fields: its message starts with the field
        assert any(d["msg"].split("Value error, ")[-1].startswith(field) for d in details), details
    else:
        assert any(d["loc"][1:] == field for d in details), details


def test_unknown_and_malformed_sessions(client):
    assert client.get("/api/sessions/abcdefghijkl/frame").status_code == 404
    assert client.get("/api/sessions/..%2F..%2Fetc/frame").status_code in (404, 422)
    assert client.get("/api/sessions/x/frame").status_code == 422


def test_sessions_are_bounded_and_the_longest_idle_goes_first(client):
    ids = [new_session(client) for _ in range(4)]
    client.get(f"/api/sessions/{ids[0]}/frame")  # touch the oldest: the second is now idlest
    fifth = new_session(client)
    assert client.get(f"/api/sessions/{ids[1]}/frame").status_code == 404
    for sid in (ids[0], ids[2], ids[3], fifth):
        assert client.get(f"/api/sessions/{sid}/frame").status_code == 200
    assert client.post(f"/api/sessions/{fifth}/close").json() == {"closed": True}
    assert client.get(f"/api/sessions/{fifth}/frame").status_code == 404


@pytest.mark.parametrize(
    "settings",
    [
        {**SPIRAL, "dropout": 0.2, "inputs": ["x1", "x2", "sin_x1"]},
        {
            "dataset": "blobs",
            "classes": 4,
            "loss": "cross_entropy",
            "hidden": [6],
            "activations": ["leaky_relu"],
            "init": "he",
        },
        {"dataset": "multigauss", "hidden": [8, 8], "activations": ["relu", "softplus"]},
        {"dataset": "xor", "hidden": [], "activations": [], "inputs": ["x1*x2"]},
    ],
    ids=["binary-dropout", "four-classes", "regression", "no-hidden-layer"],
)
def test_python_snippet_rebuilds_the_network_and_predicts_the_same(client, settings, tmp_path):
    sid = new_session(client, optimizer="adam", **settings)
    for _ in range(5):
        client.post(f"/api/sessions/{sid}/control", json={"action": "step"})
    exported = client.get(f"/api/sessions/{sid}/export.json").json()
    assert exported["format"] == "nnlab-playground/1" and exported["epoch"] == 5
    code = client.get(f"/api/sessions/{sid}/export.py").text
    namespace: dict = {"__name__": "snippet"}
    exec(compile(code, "playground_network.py", "exec"), namespace)
    session = client.app.state.store.sessions[sid]
    pts = np.random.default_rng(0).uniform(-6, 6, (200, 2))
    out = session.model.predict(features(pts, session.settings.inputs))
    got = namespace["predict"](pts)
    if settings.get("dataset") == "multigauss":
        np.testing.assert_allclose(got, out[:, 0], rtol=1e-12)
    elif out.shape[1] > 1:
        np.testing.assert_array_equal(got, out.argmax(axis=1))
    else:
        np.testing.assert_array_equal(got, (out[:, 0] > 0).astype(int))
    assert len(set(np.atleast_1d(got).tolist())) > 1 or settings.get("dataset") == "xor"
    script = tmp_path / "snippet.py"
    script.write_text(code)  # and it runs as a script
    import subprocess

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().startswith("["), done.stderr


def test_the_test_client_imports_without_a_deprecation_warning():
    # Starlette's TestClient deprecates plain httpx; the dev extra installs httpx2 for it
    import subprocess

    code = "import warnings; warnings.simplefilter('error'); import fastapi.testclient"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]


def test_cli_without_the_web_extra_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["playground", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "web extra" in err and "uvicorn" in err


def test_cli_on_a_busy_port_is_a_one_line_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["playground", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port}" in err and "busy" in err


def test_no_playground_module_is_over_600_lines():
    from pathlib import Path

    import nnlab.playground

    folder = Path(nnlab.playground.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}


@pytest.mark.parametrize(
    ("csv", "says"),
    [
        ("x1,x2,label\n" + "1" * 140_000 + ",1,1\n", "line 2: field larger than field limit"),
        ("x1,x2,label\n" + "a" * 5000 + ",1,1\n", "line 2: not numbers: ['aaaa"),
    ],
    ids=["field-over-131072", "long-junk"],
)
def test_a_csv_the_csv_module_cannot_read_is_a_one_line_422(client, csv, says):
    sid = client.post("/api/sessions").json()["id"]
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": csv})
    assert res.status_code == 422, res.text
    msg = res.json()["detail"][0]["msg"]
    assert msg.startswith(says) and "\n" not in msg and len(msg) < 120, msg


def test_a_csv_with_old_mac_line_ends_reads(client):
    sid = client.post("/api/sessions").json()["id"]  # the csv module refused a lone \r: a 500
    res = client.post(f"/api/sessions/{sid}/csv", json={"csv": "x1,x2,label\r1,2,0\r-1,-2,1\r"})
    assert res.status_code == 200 and res.json() == {"points": 2}


def test_a_422_never_echoes_the_input(client):
    sid = client.post("/api/sessions").json()["id"]
    marker = "ECHO" * 25_000
    cases = [
        ("PUT", "settings", {"dataset": marker}),
        ("PUT", "settings", {marker: 1}),
        ("POST", "csv", {"csv": marker * 3}),  # over 200,000 characters
        ("PUT", "points", {"points": [[0, 0, 1, True]] * 2001, "note": marker}),
        ("POST", "control", {"action": marker}),
    ]
    for method, path, body in cases:
        res = client.request(method, f"/api/sessions/{sid}/{path}", json=body)
        assert res.status_code == 422, (path, res.text[:200])
        assert "ECHOECHO" * 10 not in res.text and len(res.content) < 3000, res.text[:300]
        assert all(set(d) == {"loc", "msg", "type"} for d in res.json()["detail"])
    # many failed checks: the first 20
    res = client.put(f"/api/sessions/{sid}/settings", json={f"k{i}": 0 for i in range(5000)})
    assert res.status_code == 422 and len(res.json()["detail"]) == 20


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("PUT", "settings", '{"noise": NaN}', ["body", "noise"]),
        ("PUT", "settings", '{"stop_loss": Infinity}', ["body", "stop_loss"]),
        ("PUT", "settings", '{"learning_rate": 1e999}', ["body", "learning_rate"]),
        ("POST", "points", '{"x1": -Infinity, "x2": 0, "label": 0}', ["body", "x1"]),
        ("PUT", "points", '{"points": [[0, 0, NaN, true]]}', ["body", "points", 0, 2]),
        (
            "PUT",
            "points",
            '{"target": "value", "points": [[0, 0, NaN, true]]}',
            ["body", "points", 0, 2],
        ),
        (
            "POST",
            "weight",
            '{"layer": 0, "source": 0, "target": 0, "value": NaN}',
            ["body", "value"],
        ),
        ("POST", "", '{"reg_rate": NaN}', ["body", "reg_rate"]),
    ],
)
def test_nan_and_infinities_are_a_422_that_names_the_field(client, method, path, body, loc):
    sid = client.post("/api/sessions").json()["id"]
    url = f"/api/sessions/{sid}/{path}" if path else "/api/sessions"
    res = client.request(method, url, content=body, headers=JSON)
    assert res.status_code == 422, res.text
    details = res.json()["detail"]
    finite = {"loc": loc, "msg": "Input should be a finite number", "type": "finite_number"}
    assert finite in details, details

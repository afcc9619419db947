"""Fuzz the playground API with Hypothesis: whatever arrives, the answer is never a 500. One test
plays plausible request sequences on a session; the other sends malformed path parameters, query
strings and bodies to every route of the app's OpenAPI schema."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from needs import need

try:
    from fastapi.testclient import TestClient
except ImportError as exc:
    need(f"the playground needs the web extra (pip install -e .[web]): {exc}")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlab.playground.app import SessionStore, create_app
from nnlab.playground.settings import DATASETS, INPUTS, Settings

JSON = {"Content-Type": "application/json"}
LOCAL = "http://127.0.0.1"  # the test client's default Host, testserver, is refused
ACTIONS = ["play", "pause", "step", "reset", "regenerate", "clear"]
ACTS = ["relu", "leaky_relu", "tanh", "sigmoid", "linear", "softplus"]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 40), max_size=10),
)
# mostly plausible values, so the fuzzer also reaches training and frames, not only 422s
plausible = {
    "dataset": st.sampled_from([*DATASETS, "custom", "moon"]),
    "classes": st.integers(0, 6),
    "custom_target": st.sampled_from(["label", "value", "price"]),
    "n_points": st.integers(0, 2100),
    "noise": st.floats(-5, 60),
    "train_share": st.floats(0, 100),
    "seed": st.integers(-1, 2**31),
    "inputs": st.lists(st.sampled_from([*INPUTS, "x3"]), max_size=8),
    "hidden": st.lists(st.integers(0, 33), max_size=9),
    "activations": st.lists(st.sampled_from([*ACTS, "swish"]), max_size=9),
    "loss": st.sampled_from(["squared_error", "cross_entropy", "hinge"]),
    "optimizer": st.sampled_from(["sgd", "momentum", "adam", "lbfgs"]),
    "learning_rate": st.floats(0, 11),
    "batch_size": st.integers(0, 2100),
    "regularization": st.sampled_from(["none", "l1", "l2", "l3"]),
    "reg_rate": st.floats(-1, 11),
    "dropout": st.floats(-0.1, 1.0),
    "init": st.sampled_from(["xavier", "he", "lecun", "zeros", "ones"]),
    "stop_loss": st.one_of(st.none(), st.floats(-1, 11)),
}
settings_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={k: st.one_of(v, junk) for k, v in plausible.items()}),
    st.dictionaries(st.text(max_size=6), junk, max_size=4),
    junk,
)
requests = st.one_of(
    st.tuples(st.just("PUT"), st.just("settings"), settings_bodies),
    st.tuples(
        st.just("POST"),
        st.just("control"),
        st.one_of(
            st.fixed_dictionaries({"action": st.sampled_from(ACTIONS)}),
            junk,
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("points"),
        st.one_of(
            st.fixed_dictionaries(
                {"x1": st.floats(-7, 7), "x2": st.floats(-7, 7), "label": st.integers(-1, 5)},
                optional={"train": st.booleans()},
            ),
            junk,
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("weight"),
        st.one_of(
            st.fixed_dictionaries(
                {
                    "layer": st.integers(-1, 9),
                    "source": st.integers(-1, 33),
                    "target": st.integers(-1, 33),
                    "value": st.floats(allow_nan=True),
                }
            ),
            junk,
        ),
    ),
    st.tuples(
        st.just("PUT"),
        st.just("points"),
        st.one_of(
            st.fixed_dictionaries(
                {
                    "points": st.lists(
                        st.tuples(
                            st.floats(-7, 7),
                            st.floats(-7, 7),
                            st.one_of(st.integers(-1, 5), st.floats(allow_nan=True)),
                            st.booleans(),
                        ),
                        max_size=30,
                    )
                },
                optional={"target": st.sampled_from(["label", "value", "size"])},
            ),
            junk,
        ),
    ),
    st.tuples(
        st.just("POST"),
        st.just("csv"),
        st.one_of(
            st.fixed_dictionaries(
                {
                    "csv": st.tuples(
                        st.sampled_from(["", "x1,x2,label\n", "x1,x2,value\n", "a,b\n"]),
                        st.text(alphabet="0123456789.,-e\n xnaif", max_size=60),
                    ).map("".join)
                }
            ),
            junk,
        ),
    ),
    st.tuples(st.just("GET"), st.sampled_from(["frame", "export.json", "export.py"]), st.none()),
    st.tuples(st.just("GET"), st.integers(-1, 9).map("warp?layer={}".format), st.none()),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(st.none(), settings_bodies), st.lists(requests, min_size=1, max_size=6))
def test_no_request_sequence_gets_a_500(first, sequence):
    app = create_app(SessionStore(limit=2))
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as client:
        # a page opened from a link creates its session with the link's settings
        res = client.post("/api/sessions", content=json.dumps(first), headers=JSON)
        assert res.status_code in (200, 422), (first, res.status_code, res.text)
        if res.status_code == 422:
            res = client.post("/api/sessions")
        sid = res.json()["id"]
        for method, path, body in sequence:
            # NaN and Infinity go over the wire too: Python's json (FastAPI's) accepts them
            res = client.request(
                method,
                f"/api/sessions/{sid}/{path}",
                content=None if method == "GET" else json.dumps(body),
                headers=JSON,
            )
            assert res.status_code in (200, 422), (method, path, body, res.status_code, res.text)
            if res.status_code == 422:
                assert all(d["loc"] for d in res.json()["detail"])
        frame = client.get(f"/api/sessions/{sid}/frame")
        assert frame.status_code == 200
        Settings.model_validate(frame.json()["settings"])  # the state stays valid


ROUTES = [
    (method.upper(), path, [p["name"] for p in op.get("parameters", []) if p["in"] == "query"])
    for path, ops in create_app().openapi()["paths"].items()
    for method, op in ops.items()
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]
malformed_bodies = st.one_of(
    junk.map(json.dumps),  # JSON of another shape
    settings_bodies.map(json.dumps),
    st.binary(max_size=64),  # not JSON, not even UTF-8
    st.sampled_from(
        [
            b"",
            b"{",
            b"[" * 5000 + b"]" * 5000,  # deeper than the parser's recursion
            b'{"x1": NaN, "csv": Infinity, "points": [[NaN, 0, 0, true]]}',
            b"1e999",
            b"9" * 5000,  # an integer longer than Python reads from a string
            b'{"csv": "\\ud800,1,1"}',  # a lone surrogate
            b'{"action": "play", "action": "step"}',
            b"\xef\xbb\xbf{}",  # a byte-order mark
            b"null",
        ]
    ),
)
session_ids = st.one_of(
    st.just("REAL"),  # the session this example created
    st.just("abcdefghijkl"),  # well-formed, unknown
    st.text(max_size=40),  # anything (percent-encoded into the path)
)
query_values = st.one_of(
    st.text(max_size=12), st.integers(-(2**70), 2**70).map(str), st.sampled_from(["nan", "-1"])
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)


@pytest.mark.parametrize(("method", "path", "query"), ROUTES, ids=ROUTE_IDS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_route_answers_malformed_input_with_a_4xx(method, path, query, data):
    app = create_app(SessionStore(limit=2))
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as client:
        real = client.post("/api/sessions").json()["id"]
        sid = data.draw(session_ids, label="sid")
        url = path.replace("{sid}", quote(real if sid == "REAL" else sid, safe=""))
        params = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(query, query_values)))
        if path.endswith("/stream"):
            params["max_frames"] = "1"  # a paused stream would otherwise stay open
        headers = data.draw(st.one_of(st.none(), content_types), label="content type")
        res = client.request(
            method,
            url,
            params=params,
            content=data.draw(malformed_bodies, label="body"),
            headers={"Content-Type": headers} if headers else {},
        )
        assert res.status_code < 500, (method, url, params, res.status_code, res.text[:300])
        if res.status_code == 422:
            assert all(set(d) == {"loc", "msg", "type"} for d in res.json()["detail"])

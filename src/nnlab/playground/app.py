"""The playground's web server: a FastAPI app serving the static page and a JSON API.

    POST /api/sessions                      create a session (optional Settings body) -> {"id"}
    PUT  /api/sessions/{id}/settings        Settings
    POST /api/sessions/{id}/control         {"action": "play" | "pause" | "step" | ...}
    POST /api/sessions/{id}/points          {"x1", "x2", "label", "train"}: add one point
    PUT  /api/sessions/{id}/points          {"target": "label" | "value",
                                             "points": [[x1, x2, label or value, train], ...]}
    POST /api/sessions/{id}/csv             {"csv": "x1,x2,label\\n..."} or "x1,x2,value\\n..."
    POST /api/sessions/{id}/weight          {"layer", "source", "target", "value"}
    GET  /api/sessions/{id}/frame           one frame (JSON)
    GET  /api/sessions/{id}/warp?layer=0    hidden layer 0's image of the input grid and points
    GET  /api/sessions/{id}/stream          frames as Server-Sent Events
    GET  /api/sessions/{id}/export.json     the trained network and its settings
    GET  /api/sessions/{id}/export.py       a Python snippet that rebuilds it with nnlab.scratch
    POST /api/sessions/{id}/close           the tab is going away

Every request passes `guard.Guard` first: Host, Origin, token, and a body of at most 1 MiB and
20,000 values, so that parsing it on the event loop, which streams every session's frames, takes
milliseconds. A failed check is a 422 that names the field and never echoes the input.

Training runs in this process while a page's stream is open and the session plays: each turn
of the stream trains whole epochs for TRAIN_BUDGET seconds in a worker thread, then sends a
frame. Sessions are bounded in number (MAX_SESSIONS; the longest idle is evicted), in size
(settings limits) and in time (idle sessions expire; play pauses after a while).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from importlib import resources
from typing import Annotated, Any

import anyio
from fastapi import Body, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from nnlab.playground.guard import MAX_BODY, Access, Guard
from nnlab.playground.session import PlaygroundError, Session
from nnlab.playground.settings import MAX_LAYERS, Control, Point, PointSet, Settings, WeightEdit

MAX_SESSIONS = 16
IDLE_SECONDS = 15 * 60
TRAIN_BUDGET = 0.05  # seconds of training between frames while playing
MIN_FRAME_INTERVAL = 1 / 25
POLL = 0.03  # a paused stream checks for changes this often
KEEPALIVE = 15.0
MAX_CSV_CHARS = 200_000
MAX_ERRORS = 20  # a 422 lists at most this many failed checks

STATIC = resources.files("nnlab.playground") / "static"
SessionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,32}$")]


class CsvUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csv: str = Field(max_length=MAX_CSV_CHARS)


class SessionStore:
    """At most ``limit`` sessions; an idle one (no open stream) is evicted to make room."""

    def __init__(self, limit: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.limit, self.idle_seconds = limit, idle_seconds
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()

    def create(self, settings: Settings) -> str:
        with self.lock:
            now = time.monotonic()
            for sid, s in list(self.sessions.items()):
                if s.streams == 0 and now - s.last_seen > self.idle_seconds:
                    del self.sessions[sid]
            if len(self.sessions) >= self.limit:
                idle = [(s.last_seen, sid) for sid, s in self.sessions.items() if s.streams == 0]
                if not idle:
                    raise HTTPException(503, f"all {self.limit} playground sessions are in use")
                del self.sessions[min(idle)[1]]
            sid = secrets.token_urlsafe(12)
            self.sessions[sid] = Session(settings)
            return sid

    def get(self, sid: str) -> Session:
        session = self.sessions.get(sid)
        if session is None:
            raise HTTPException(404, "no such session (it expired or the server restarted)")
        session.last_seen = time.monotonic()
        return session

    def close(self, sid: str) -> None:
        with self.lock:
            self.sessions.pop(sid, None)


def _unprocessable(exc: PlaygroundError) -> JSONResponse:
    detail = [{"loc": [exc.where, exc.field], "msg": str(exc), "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _short(part: str | int) -> str | int:
    return part if isinstance(part, int) or len(part) <= 40 else part[:40] + "..."


def _invalid(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 without the ``input`` it would echo (a 22 MB body came back whole, and a
    NaN in it made the reply a 500): where and why each check failed, the first MAX_ERRORS."""
    detail = [
        {"loc": [_short(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors()[:MAX_ERRORS]
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(
    store: SessionStore | None = None, access: Access | None = None, max_body: int = MAX_BODY
) -> FastAPI:
    """The playground's app, for requests that ``access`` allows (by default: Host 127.0.0.1,
    localhost or [::1], no token) with bodies of at most ``max_body`` bytes."""
    app = FastAPI(title="nnlab playground", docs_url=None, redoc_url=None)
    app.add_middleware(Guard, access=access or Access(), max_body=max_body)
    app.state.store = store = store or SessionStore()
    app.state.stopping = lambda: False  # `server.run` asks uvicorn instead
    app.add_exception_handler(PlaygroundError, lambda request, exc: _unprocessable(exc))
    app.add_exception_handler(RequestValidationError, lambda request, exc: _invalid(exc))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})

    @app.post("/api/sessions")
    def create(settings: Annotated[Settings | None, Body()] = None) -> dict[str, str]:
        return {"id": store.create(settings or Settings())}

    @app.put("/api/sessions/{sid}/settings")
    def put_settings(sid: SessionId, settings: Settings) -> dict[str, int]:
        session = store.get(sid)
        session.apply(settings)
        return {"version": session.version}

    @app.post("/api/sessions/{sid}/control")
    def control(sid: SessionId, body: Control) -> dict[str, Any]:
        session = store.get(sid)
        session.control(body.action)
        return {"version": session.version, "epoch": session.epoch}

    @app.post("/api/sessions/{sid}/points")
    def add_point(sid: SessionId, point: Point) -> dict[str, int]:
        session = store.get(sid)
        session.add_point(point)
        return {"points": len(session.X)}

    @app.put("/api/sessions/{sid}/points")
    def put_points(sid: SessionId, body: PointSet) -> dict[str, int]:
        return {"points": store.get(sid).set_points(body)}

    @app.post("/api/sessions/{sid}/csv")
    def upload(sid: SessionId, body: CsvUpload) -> dict[str, int]:
        return {"points": store.get(sid).upload_csv(body.csv)}

    @app.post("/api/sessions/{sid}/weight")
    def weight(sid: SessionId, edit: WeightEdit) -> dict[str, int]:
        session = store.get(sid)
        session.edit_weight(edit.layer, edit.source, edit.target, edit.value)
        return {"version": session.version}

    @app.get("/api/sessions/{sid}/frame")
    def frame(
        sid: SessionId,
        since: Annotated[int, Query(ge=0)] = 0,
        history_key: Annotated[str, Query(max_length=40)] = "",
        data_version: Annotated[int, Query(ge=-1)] = -1,
    ) -> dict[str, Any]:
        return store.get(sid).frame(since, history_key, data_version)

    @app.get("/api/sessions/{sid}/warp")
    def warp(
        sid: SessionId, layer: Annotated[int, Query(ge=0, le=MAX_LAYERS - 1)] = 0
    ) -> dict[str, Any]:
        return store.get(sid).warp(layer)

    @app.get("/api/sessions/{sid}/stream")
    async def stream(
        sid: SessionId,
        request: Request,
        max_frames: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    ) -> StreamingResponse:
        session = store.get(sid)
        return StreamingResponse(
            _frames(session, request, max_frames),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/api/sessions/{sid}/export.json")
    def export_json(sid: SessionId) -> JSONResponse:
        return JSONResponse(
            store.get(sid).export(),
            headers={"Content-Disposition": 'attachment; filename="playground-network.json"'},
        )

    @app.get("/api/sessions/{sid}/export.py")
    def export_py(sid: SessionId) -> PlainTextResponse:
        return PlainTextResponse(
            store.get(sid).python_snippet(),
            headers={"Content-Disposition": 'attachment; filename="playground_network.py"'},
        )

    @app.post("/api/sessions/{sid}/close")
    def close(sid: SessionId) -> dict[str, bool]:
        store.close(sid)
        return {"closed": True}

    return app


async def _frames(session: Session, request: Request, max_frames: int | None):
    """The SSE body: a frame whenever something changed, trained between frames while playing.
    A newer stream of the same session takes over (a reloaded tab); this one then ends, and so
    does every stream when the server stops (``app.state.stopping()``)."""
    stopping = request.app.state.stopping
    token = object()
    session.stream_owner = token
    session.streams += 1
    since, key, data_version = 0, "", -1
    sent_version, sent, last_sent = -1, 0, time.monotonic()
    try:
        while getattr(session, "stream_owner", None) is token and not stopping():
            if await request.is_disconnected():
                break
            started = time.monotonic()
            if session.playing:
                await anyio.to_thread.run_sync(session.advance, TRAIN_BUDGET)
            if session.version != sent_version:
                frame = await anyio.to_thread.run_sync(session.frame, since, key, data_version)
                since, key = frame["history_len"], frame["history_key"]
                data_version, sent_version = frame["data_version"], frame["version"]
                yield f"data: {json.dumps(frame, allow_nan=False)}\n\n"
                sent += 1
                last_sent = time.monotonic()
                if max_frames is not None and sent >= max_frames:
                    break
                await asyncio.sleep(max(0.0, MIN_FRAME_INTERVAL - (last_sent - started)))
            else:
                if time.monotonic() - last_sent > KEEPALIVE:
                    last_sent = time.monotonic()
                    yield ": keepalive\n\n"
                await asyncio.sleep(POLL)
    finally:
        session.streams -= 1

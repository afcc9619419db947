"""The playground's manners on a network, as Jupyter Server's and TensorBoard's: a plain ASGI
middleware in front of the app that refuses, before a body is read or parsed,

* a ``Host`` header that names another server (400). The server answers to 127.0.0.1,
  localhost and [::1], with or without its port: a page of evil.example whose name an attacker
  points at 127.0.0.1 (DNS rebinding) sends ``Host: evil.example``.
* a request that changes something (any method but GET, HEAD and OPTIONS) sent by a page of
  another origin (403): browsers send ``Origin`` with those, and it must be ``http://<Host>``.
* a request without the token, when the server has one (403): ``nnlab playground
  --allow-remote`` listens beyond this machine, answers to any Host name and wants the token of
  the address it printed on every request, as ``?token=...`` (opening the page with it sets a
  cookie and drops it from the address), that cookie, or ``Authorization: token ...``.
* a body over `MAX_BODY` bytes (413): by its Content-Length, or counted as it arrives; and a
  body of more than `MAX_VALUES` JSON values (counted as its commas, colons and brackets, 413),
  so that parsing any body takes milliseconds: 1 MiB of empty lists or of unknown keys held the
  event loop, and with it every session's stream, for half a second.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1 << 20  # bytes: 1 MiB, nginx's default client_max_body_size
MAX_VALUES = 20_000  # a request needs at most about 10,000 (2000 points of 4 values)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    """Who may use the server: the names a Host header may give (None: any, for a server on
    the network whose token guards it), the port it may add (None: any) and the token every
    request must carry (None: none)."""

    hosts: frozenset[str] | None = LOOPBACK
    port: int | None = None
    token: str | None = None

    @property
    def cookie(self) -> str:
        # cookies ignore ports: two playgrounds on one machine keep their tokens apart
        return f"nnlab-playground-token-{self.port}"

    def serves(self, host: str) -> bool:
        """Whether a Host header (``name`` or ``name:port``) names this server."""
        if self.hosts is None:
            return True
        name, port = host.lower(), None
        if not name.endswith("]") and ":" in name:  # "[::1]" alone has no port
            name, _, port = name.rpartition(":")
        return name in self.hosts and (port is None or self.port is None or port == str(self.port))

    def given_token(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and value:
            return value.strip()
        return request.query_params.get("token") or request.cookies.get(self.cookie)


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)


class Guard:
    """Checks every HTTP request against ``access`` and reads its body (at most ``max_body``
    bytes) before the app sees it."""

    def __init__(self, app: ASGIApp, access: Access, max_body: int = MAX_BODY) -> None:
        self.app, self.access, self.max_body = app, access, max_body

    def refusal(self, request: Request) -> Response | None:
        a, host = self.access, request.headers.get("host", "")
        if not a.serves(host):
            names = " or ".join(sorted(a.hosts or ()))
            return _refuse(400, f"the Host header names another server; use {names}")
        if a.token is not None:
            given = a.given_token(request)
            if given is None or not secrets.compare_digest(given.encode(), a.token.encode()):
                return _refuse(
                    403, "this playground wants its token: open the address it printed (?token=)"
                )
            if request.url.path == "/" and "token" in request.query_params:
                # the page: keep the token in a cookie, out of the address bar and shared links
                page = RedirectResponse("/", status_code=303)
                page.set_cookie(a.cookie, a.token, httponly=True, samesite="lax")
                return page
        origin = request.headers.get("origin")  # "null" from a sandboxed page: foreign too
        foreign = origin is not None and urlsplit(origin).netloc.lower() != host.lower()
        if foreign and request.method not in SAFE_METHODS:
            return _refuse(403, "a page of another origin may not change this playground")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return _refuse(413, f"the request body is over {self.max_body} bytes")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:  # a chunked body has no Content-Length: count it as it comes
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await _refuse(413, f"the request body is over {self.max_body} bytes")(
                    scope, receive, send
                )
                return
            more = message.get("more_body", False)
        content = b"".join(chunks)
        if sum(content.count(c) for c in b",:[{") > MAX_VALUES:
            await _refuse(413, f"the request body holds over {MAX_VALUES} values")(
                scope, receive, send
            )
            return
        body: Message | None = {"type": "http.request", "body": content}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()  # e.g. a stream waiting for the client to disconnect
            message, body = body, None
            return message

        await self.app(scope, replay, send)

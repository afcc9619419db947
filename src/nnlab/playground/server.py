"""Start the playground's web server (what `nnlab playground` calls).

The socket is bound before uvicorn starts, so a busy port or a missing `web` extra is a
one-line `UserError` and not a traceback from inside uvicorn.
"""

from __future__ import annotations

import errno
import socket
import webbrowser

from nnlab.errors import UserError


def check_web_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"nnlab playground needs the web extra ({exc.name} is not installed): "
            "pip install -e '.[web]'"
        ) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be in 0..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host!r} is not an address of this machine ({exc})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {host} is busy (another playground?); choose one with --port"
            ) from None
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(sock: socket.socket, open_browser: bool = False) -> None:
    """Serve the playground on ``sock`` until interrupted."""
    import uvicorn

    from nnlab.playground.app import create_app

    config = uvicorn.Config(create_app(), log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    if open_browser:
        webbrowser.open(url_of(sock))
    server.run(sockets=[sock])

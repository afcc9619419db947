"""Start the playground's web server (what `nnlab playground` calls).

The socket is bound before uvicorn starts, so a busy port or a missing `web` extra is a
one-line `UserError` and not a traceback from inside uvicorn. An address beyond loopback needs
``allow_remote``; such a server wants a token on every request (`guard`).
"""

from __future__ import annotations

import errno
import ipaddress
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


def is_loopback(sock: socket.socket) -> bool:
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def bind(host: str, port: int, allow_remote: bool = False) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one. An address other
    machines can reach needs ``allow_remote``."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be in 0..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host!r} is not an address of this machine ({exc})") from None
    family, _, _, _, address = infos[0]
    if not allow_remote and not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
        raise UserError(
            f"--host {host} lets other machines reach the playground: add --allow-remote "
            "(every request then needs the token it prints), or leave --host at 127.0.0.1"
        )
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


def url_of(sock: socket.socket, token: str | None = None) -> str:
    """The page's address; on every address (0.0.0.0, ::) this machine's name stands for it."""
    host, port = sock.getsockname()[:2]
    if ipaddress.ip_address(host).is_unspecified:
        host = socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def run(sock: socket.socket, open_browser: bool = False, token: str | None = None) -> None:
    """Serve the playground on ``sock`` until interrupted (SIGINT or SIGTERM). With a ``token``
    it answers to any Host name but wants the token."""
    import uvicorn

    from nnlab.playground.app import create_app
    from nnlab.playground.guard import LOOPBACK, Access

    port = sock.getsockname()[1]
    access = Access(LOOPBACK, port) if token is None else Access(None, port, token)
    app = create_app(access=access)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    # on SIGTERM or Ctrl+C open streams end at once, so the server stops in a fraction of a
    # second; otherwise uvicorn waits for them until timeout_graceful_shutdown
    app.state.stopping = lambda: server.should_exit
    if open_browser:
        webbrowser.open(url_of(sock, token))
    server.run(sockets=[sock])

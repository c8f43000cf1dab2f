"""Start uvicorn: bind, say where, serve with N worker processes, drain on SIGTERM.

The socket is bound here (`listen`), before the workers start, so `--port 0` works,
the address printed ("listening on http://HOST:PORT") is the one bound, and an address
that cannot be bound (in use, not this machine's, a name that does not resolve, a
privileged port) is a jarvis usage error naming it and the option to change, where
uvicorn's own bind would log "ERROR: [Errno 98] ..." and exit 3. uvicorn handles
SIGTERM and Ctrl-C: it stops accepting, lets the requests in flight finish for up
to DRAIN_S seconds (their attempts are recorded as they end), then the app's
shutdown waits for its worker threads.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys

from jarvis_cli.core.errors import UsageError

DRAIN_S = 30


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_PORT_HINT = "choose another port with --port (--port 0 takes any free one)"


def _bind_error(host: str, port: int, exc: OSError) -> UsageError:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return UsageError(
            f"cannot listen on {where}: the host {host!r} does not resolve ({exc.strerror})",
            hint="--host takes an address of this machine, e.g. 127.0.0.1 or 0.0.0.0",
        )
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"cannot listen on {where}: the address is already in use by another program",
            hint=f"{_PORT_HINT}, or stop the program listening there",
        )
    if exc.errno == errno.EACCES:
        return UsageError(
            f"cannot listen on {where}: permission denied",
            hint=f"ports below 1024 need privileges: {_PORT_HINT}",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return UsageError(
            f"cannot listen on {where}: this machine has no such address",
            hint="--host takes an address of this machine, e.g. 127.0.0.1 or 0.0.0.0",
        )
    return UsageError(
        f"cannot listen on {where}: {exc.strerror or exc}",
        hint=f"check --host, or {_PORT_HINT}",
    )


def check_host(host: str) -> None:
    """Raise the UsageError `listen` would for a host name that does not resolve."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.getaddrinfo(host, None, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise _bind_error(host, 0, exc) from None


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket on host:port (as uvicorn binds: IPv6 when the host has a colon,
    SO_REUSEADDR), or a UsageError naming the address and what to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)  # connections wait in the backlog until the app is up
    except OSError as exc:
        sock.close()
        raise _bind_error(host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def serve(sock: socket.socket, workers: int) -> None:
    """Run the server on `sock` until SIGTERM/SIGINT. Raises ImportError without the
    [serve] extra."""
    import uvicorn

    bound_host, bound_port = sock.getsockname()[:2]

    config = uvicorn.Config(
        "jarvis_cli.serve.app:create_app",
        factory=True,
        host=bound_host,
        port=bound_port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=DRAIN_S,
        timeout_keep_alive=30,
        server_header=False,
        date_header=False,
        lifespan="on",
        # A worker still starting on a loaded machine is not a dead one (default 5 s).
        timeout_worker_healthcheck=120,
    )
    server = uvicorn.Server(config)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"jarvis serve: listening on http://{shown}:{bound_port}/v1", file=sys.stderr, flush=True)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])

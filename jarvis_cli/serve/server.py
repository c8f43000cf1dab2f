"""Start uvicorn: bind, say where, serve with N worker processes, drain on SIGTERM.

The socket is bound here, before the workers start, so `--port 0` works and the
address printed ("listening on http://HOST:PORT") is the one bound. uvicorn handles
SIGTERM and Ctrl-C: it stops accepting, lets the requests in flight finish for up
to DRAIN_S seconds (their attempts are recorded as they end), then the app's
shutdown waits for its worker threads.
"""

from __future__ import annotations

import ipaddress
import sys

DRAIN_S = 30


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str, port: int, workers: int, on_bound: object = None) -> None:
    """Run the server until SIGTERM/SIGINT. Raises ImportError without the [serve] extra."""
    import uvicorn

    config = uvicorn.Config(
        "jarvis_cli.serve.app:create_app",
        factory=True,
        host=host,
        port=port,
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
    sock = config.bind_socket()
    sock.listen(config.backlog)  # connections wait in the backlog until the app is up
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"jarvis serve: listening on http://{shown}:{bound_port}/v1", file=sys.stderr, flush=True)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])

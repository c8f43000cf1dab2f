"""One expensive test service for every pytest-xdist worker of a run (issue 28).

The suite runs on all cores with pytest-xdist (`-n auto` in pyproject's addopts), so a
session-scoped fixture runs once *per worker process*. For a cheap service that is fine;
for an expensive one (a PostgreSQL server, a llama.cpp server loading a model) the first
worker that needs it starts it and the others attach to it:

- the service's description (ports, paths, pid: whatever `dump` returns, JSON) is kept in
  `<run's basetemp>/<name>.json`, and every read or change of that file happens under an
  exclusive `flock` on `<name>.lock`, so two workers never start it twice;
- each worker that attaches adds itself to the file's `users`; when it is done (its session
  ends) it removes itself, and the last user stops the service. A worker that needs it later
  simply starts it again;
- the controller's `pytest_sessionfinish` (tests/conftest.py) calls `stop_leftovers`, which
  stops whatever a crashed worker left behind, so no server outlives the run.

Without xdist (`-n 0`, `-p no:xdist`) the service is simply started and stopped.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")
Description = dict[str, Any]


class ServiceKind(Generic[T]):
    """How to start a service, describe it in JSON, rebuild it from that, and stop it."""

    registry: ClassVar[dict[str, ServiceKind[Any]]] = {}

    def __init__(
        self,
        name: str,
        start: Callable[[], T],
        dump: Callable[[T], Description],
        load: Callable[[Description], T],
        stop: Callable[[T], None],
    ) -> None:
        self.name, self.start, self.dump, self.load, self.stop = name, start, dump, load, stop
        ServiceKind.registry[name] = self


def xdist_worker() -> str | None:
    """This process's xdist worker id (gw0, gw1, …), or None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def shared_service(kind: ServiceKind[T], run_dir: Path) -> Iterator[T]:
    """The service, started once for the whole run and shared by every xdist worker.

    `run_dir` is the directory all workers share: `tmp_path_factory.getbasetemp().parent`
    in a worker (see `run_directory`)."""
    worker = xdist_worker()
    if worker is None:
        service = kind.start()
        try:
            yield service
        finally:
            kind.stop(service)
        return
    state = run_dir / f"{kind.name}.json"
    with _locked(run_dir / f"{kind.name}.lock"):
        if state.exists():
            data = json.loads(state.read_text())
            service = kind.load(data["service"])
        else:
            service = kind.start()
            data = {"service": kind.dump(service), "users": []}
        data["users"].append(worker)
        state.write_text(json.dumps(data))
    try:
        yield service
    finally:
        with _locked(run_dir / f"{kind.name}.lock"):
            data = json.loads(state.read_text())
            data["users"].remove(worker)
            if data["users"]:
                state.write_text(json.dumps(data))
            else:
                state.unlink()
                kind.stop(service)


def run_directory(basetemp: Path) -> Path:
    """The directory every worker of this run shares: under xdist each worker's basetemp is
    `<controller basetemp>/popen-gwN`, so it is the parent; without xdist, basetemp itself."""
    return basetemp.parent if xdist_worker() is not None else basetemp


def stop_leftovers(run_dir: Path) -> list[str]:
    """Stop every shared service still described in run_dir (a worker crashed before its
    teardown); returns their names. Called by the controller once all workers are done."""
    stopped = []
    for state in sorted(run_dir.glob("*.json")):
        kind = ServiceKind.registry.get(state.stem)
        if kind is None:
            continue
        with _locked(run_dir / f"{kind.name}.lock"):
            if not state.exists():
                continue
            kind.stop(kind.load(json.loads(state.read_text())["service"]))
            state.unlink()
        stopped.append(kind.name)
    return stopped

"""tests/shared_service.py: one expensive service for all xdist workers of a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_service import ServiceKind, shared_service, stop_leftovers

ROOT = Path(__file__).resolve().parent.parent


def _kind(log: list[str]) -> ServiceKind[dict[str, int]]:
    return ServiceKind(
        "counting-test-service",
        start=lambda: log.append("start") or {"port": len(log)},
        dump=lambda svc: dict(svc),
        load=lambda data: dict(data),
        stop=lambda svc: log.append(f"stop {svc['port']}"),
    )


def test_workers_share_one_start_and_the_last_one_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    kind = _kind(log)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    with shared_service(kind, tmp_path) as first:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
        with shared_service(kind, tmp_path) as second:
            assert first == second == {"port": 1}
            users = json.loads((tmp_path / "counting-test-service.json").read_text())["users"]
            assert users == ["gw0", "gw1"]
        assert log == ["start"]  # gw0 still uses it
        monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert log == ["start", "stop 1"]
    assert not (tmp_path / "counting-test-service.json").exists()


def test_without_xdist_the_service_is_simply_started_and_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    with shared_service(_kind(log), tmp_path):
        assert list(tmp_path.iterdir()) == []
    assert log == ["start", "stop 1"]


def test_controller_stops_what_a_crashed_worker_left(tmp_path: Path) -> None:
    log: list[str] = []
    kind = _kind(log)
    # What a worker that died inside `shared_service` leaves: a running service, described.
    state = {"service": kind.dump(kind.start()), "users": ["gw3"]}
    (tmp_path / "counting-test-service.json").write_text(json.dumps(state))
    assert stop_leftovers(tmp_path) == ["counting-test-service"]
    assert log == ["start", "stop 1"]
    assert stop_leftovers(tmp_path) == []


def test_two_processes_starting_together_start_the_service_once(tmp_path: Path) -> None:
    # Real processes racing for the lock, as two xdist workers do.
    script = tmp_path / "worker.py"
    script.write_text(
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from tests.shared_service import ServiceKind, shared_service\n"
        "run = Path(sys.argv[1])\n"
        "def start():\n"
        "    with open(run / 'starts', 'a') as f:\n"
        "        f.write(os.environ['PYTEST_XDIST_WORKER'] + '\\n')\n"
        "    time.sleep(0.3)\n"
        "    return {}\n"
        "stop = lambda s: open(run / 'stops', 'a').write('x')\n"
        "kind = ServiceKind('race', start, dict, dict, stop)\n"
        "with shared_service(kind, run):\n"
        "    time.sleep(0.3)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path)],
            env={**os.environ, "PYTEST_XDIST_WORKER": f"gw{i}"},
        )
        for i in range(3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    starts = (tmp_path / "starts").read_text().split()
    stops = (tmp_path / "stops").read_text()
    # Started once and stopped once, unless a worker came after the last one left.
    assert len(starts) == len(stops) >= 1
    assert not (tmp_path / "race.json").exists()

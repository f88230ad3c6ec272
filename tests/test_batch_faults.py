"""A worker process killed in the middle of an area: the batch finishes or says so.

Two synthetic counties run on a real LocalCluster of two worker processes;
while the first area runs, its worker process is ended (``os._exit``, as the
kernel's OOM killer would).  With the scheduler's default retries the area
runs again on a live worker and ends done; with none allowed it is reported
failed, naming the killed worker, while the other area is done.  Either way
the workspaces are whole: readable, no copy-on-write leftovers once used
again, and every analysis stored or none changed.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import dask
import distributed
import pytest
from _batch import areas_toml, county_workspace

from gcgeo import pipeline
from gcgeo import workspace as ws
from gcgeo.batch import read_project, run_batch
from gcgeo.network_cache import cache_path

pytestmark = pytest.mark.slow

SEEDS = (31, 32)
ANALYSES = ("living_circle", "green", "property")


def _project(root):
    for seed in SEEDS:
        county_workspace(root / f"county{seed}.gpkg", seed, name=f"county {seed}")
    (root / "p.toml").write_text('[batch]\nreports = false\nresults = false\n'
                                 'analyses = ["living_circle", "green", "property"]\n\n'
                                 + areas_toml([(f"county {s}", f"county{s}.gpkg") for s in SEEDS]),
                                 encoding="utf-8")
    return read_project(root / "p.toml")


def _kill_worker_running(client, key_part: str, after: float) -> str:
    """End the worker process running the task whose key holds ``key_part``, ``after`` s
    after it starts; its address."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for addr, keys in client.processing().items():
            if any(key_part in str(k) for k in keys):
                time.sleep(after)
                try:
                    client.run(os._exit, 1, workers=[addr])
                except Exception:  # noqa: BLE001 - the worker dies before it answers
                    pass
                return addr
        time.sleep(0.05)
    raise AssertionError(f"no task {key_part} ran")


def _run_killing(project, cluster, key_part: str) -> tuple[list, str]:
    with distributed.Client(cluster) as client:
        out: dict = {}
        worker = threading.Thread(target=lambda: out.setdefault("r", run_batch(project, client=client)))
        worker.start()
        killed = _kill_worker_running(client, key_part, after=1.5)
        worker.join(timeout=600)
    return out["r"], killed


def _whole(path) -> None:
    """The workspace opens, every layer reads, and no copy of it is left beside it."""
    for name in ws.list_layers(path)["layer"]:
        ws.read_layer(path, name)
    with ws.lock(path):  # taking the lock clears what a dead writer left
        pass
    kept = {cache_path(path).name}  # the walking network kept beside it, written whole
    stray = [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.stem}.")
             and not p.name.endswith(".lock") and p.name not in kept]
    assert stray == [], stray


def test_killed_worker_area_runs_again_elsewhere(tmp_path):
    project = _project(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="2GiB", dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        results, killed = _run_killing(project, cluster, "gcgeo-area-0-")
    assert killed
    assert [r.status for r in results] == ["done", "done"], results
    for area in project.areas:
        _whole(area.workspace)
        assert pipeline.stale(area.workspace) == {}
        assert all(pipeline.last_run(area.workspace, n) for n in ANALYSES)


def test_killed_worker_without_retries_is_reported(tmp_path):
    project = _project(tmp_path)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     memory_limit="2GiB", dashboard_address=None,
                                     host="127.0.0.1") as cluster:
        results, killed = _run_killing(project, cluster, "gcgeo-area-0-")
    first, second = results
    assert first.status == "failed" and first.fault, first
    assert "KilledWorker" in first.error and "worker" in first.error, first.error
    assert second.status == "done", second
    # the killed area's workspace is whole: what it had stored is readable, a rerun completes it
    _whole(project.areas[0].workspace)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        again = run_batch(project, client=client)
    assert again[0].status == "done" and again[1].status == "unchanged", again
    assert pipeline.stale(project.areas[0].workspace) == {}


def _invoke_batch(tmp_path, address: str):
    from click.testing import CliRunner

    from gcgeo.cli import main

    (tmp_path / "p.toml").write_text('[[area]]\nname = "a"\nworkspace = "a.gpkg"\n', encoding="utf-8")
    start = time.monotonic()
    res = CliRunner().invoke(main, ["batch", str(tmp_path / "p.toml"), "--scheduler", address,
                                    "--connect-timeout", "3"])
    text = res.output + getattr(res, "stderr", "")
    assert res.exit_code == 2, text
    assert "Traceback" not in text
    assert time.monotonic() - start < 15
    assert not (tmp_path / "a.gpkg").exists()
    return text


def test_scheduler_that_never_replies_is_a_clear_error_within_the_timeout(tmp_path):
    """A port that takes the connection and then says nothing: exit 2 when the timeout is
    up, naming the address, not a hang."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)  # connections wait in the backlog, never answered
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
        text = _invoke_batch(tmp_path, address)
    assert f"no dask scheduler answered at {address} within 3 s" in text


def test_an_address_where_another_server_answers_is_a_clear_error(tmp_path):
    """Something else on the port (here a web server's reply): exit 2 saying it is not a
    dask scheduler, not a fault."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"

        def answer() -> None:
            s.settimeout(10)
            try:
                while True:
                    conn, _ = s.accept()
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 64)
                    conn.close()
            except OSError:
                return

        threading.Thread(target=answer, daemon=True).start()
        text = _invoke_batch(tmp_path, address)
    assert (f"something answered at {address}, but not a dask scheduler" in text
            or f"no dask scheduler answered at {address}" in text), text

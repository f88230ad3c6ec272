"""Run a batch's study areas as one task graph on a dask.distributed cluster.

Each area is one task (:func:`gcgeo.batch.area.run_area`), so an area's
workspace is written by one worker at a time, and areas run side by side on
as many workers as the cluster has.  By default the cluster is a
``LocalCluster`` of one single-threaded worker process per core (the
analyses hold the GIL; processes, not threads, run them side by side), each
with a memory limit; ``scheduler="tcp://HOST:PORT"`` uses a running cluster
(``dask scheduler`` and ``dask worker`` on the machines, with gcgeo
installed on every worker and the workspaces on a shared file system).

Results come back as each area finishes (``distributed.as_completed``); a
worker lost mid-area makes the scheduler run the area again elsewhere (the
workspace is changed by atomic replacement, so no half-written file is
left), and an area whose workers keep dying is reported failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from .._errors import InputError
from .area import AreaResult, run_area
from .project import Area, Project

log = logging.getLogger(__name__)

__all__ = ["connect", "run_batch"]


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise InputError("gcgeo batch needs dask.distributed; install it with "
                         "`pip install 'dask>=2026.8' 'distributed>=2026.8'`.") from None
    return distributed


def _probe(address: str, timeout: float) -> None:
    """Connect to ``address`` and finish dask's handshake within ``timeout`` seconds, or
    raise :class:`TimeoutError` (``distributed.Client`` waits forever on a port that takes
    the connection and never replies)."""
    import asyncio
    import concurrent.futures

    from distributed.comm import connect as comm_connect

    async def handshake() -> None:
        comm = await asyncio.wait_for(comm_connect(address, timeout=timeout), timeout)
        await comm.close()

    # a loop of its own, in a thread: the caller may be inside one (a notebook)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, handshake()).result()


@contextlib.contextmanager
def connect(project: Project) -> Iterator[Any]:
    """A ``distributed.Client`` for the project: its scheduler, or a new LocalCluster.

    A scheduler that does not answer within ``project.connect_timeout``
    seconds is an :class:`~gcgeo.InputError` naming the address.
    """
    distributed = _require_distributed()
    if project.scheduler:
        try:
            _probe(project.scheduler, project.connect_timeout)
            client = distributed.Client(project.scheduler, timeout=project.connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"no dask scheduler answered at {project.scheduler} within "
                f"{project.connect_timeout:g} s ({type(exc).__name__}). Check the address and "
                "that `dask scheduler` is running there, or leave out --scheduler to run on "
                "this machine.") from None
        except Exception as exc:  # noqa: BLE001 - e.g. MemoryError reading another server's bytes
            raise InputError(
                f"something answered at {project.scheduler}, but not a dask scheduler "
                f"({type(exc).__name__}): check the address and port (a dask scheduler listens "
                "on 8786 by default), or leave out --scheduler to run on this machine.") from None
        with client:
            yield client
        return
    workers = project.workers or os.cpu_count() or 1
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True,
        memory_limit=project.memory_limit if project.memory_limit is not None else "auto",
        dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, distributed.Client(cluster) as client:
        yield client


def _failed(area: Area, exc: BaseException) -> AreaResult:
    """An area whose task itself failed (its worker died too often, it was cancelled…)."""
    return AreaResult(name=area.name, workspace=area.workspace, status="failed",
                      error=f"{type(exc).__name__}: {exc}", fault=True)


def run_batch(
    project: Project,
    *,
    client: Any = None,
    force: bool = False,
    progress: Callable[[AreaResult, int, int], None] | None = None,
) -> list[AreaResult]:
    """Run every area of ``project``; one result per area, in the project's order.

    ``client`` is a ``distributed.Client`` to run on (default: :func:`connect`).
    ``force`` imports, analyses and reports every area again, current or not.
    ``progress(result, n_finished, n_areas)`` is called as each area finishes.
    One area failing never stops the others.
    """
    distributed = _require_distributed()
    if client is None:
        with connect(project) as own:
            return run_batch(project, client=own, force=force, progress=progress)
    futures = {}
    for i, area in enumerate(project.areas):
        fut = client.submit(run_area, area, force=force, key=f"gcgeo-area-{i}-{area.name}", pure=False)
        futures[fut] = i
    results: list[AreaResult | None] = [None] * len(project.areas)
    for n, fut in enumerate(distributed.as_completed(futures), start=1):
        i = futures[fut]
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, a lost scheduler
            res = _failed(project.areas[i], exc)
        results[i] = res
        log.info("%s: %s", res.name, res.status)
        if progress:
            progress(res, n, len(project.areas))
    return [r for r in results if r is not None]

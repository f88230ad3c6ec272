"""A PostgreSQL + PostGIS server for the tests that need one.

``GCGEO_TEST_POSTGRES`` (a connection URL) names an existing server; else a
throwaway cluster is started on loopback by ``.ci/pg-cluster`` (which CI's
``.ci/run`` also uses) and stopped afterwards.  Without a PostgreSQL
installation the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_server() -> Iterator[str]:
    """Yield the URL of a PostgreSQL server with PostGIS (a pytest fixture's body)."""
    url = os.environ.get("GCGEO_TEST_POSTGRES")
    if url:
        yield url
        return
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no PostgreSQL server here (Debian: postgresql postgresql-15-postgis-3, as .ci/run "
                    "installs) and GCGEO_TEST_POSTGRES names none")
    folder = tempfile.mkdtemp(prefix="gcgeo-pg-")
    r = subprocess.run([str(ROOT / ".ci" / "pg-cluster"), "start", folder, str(free_port())],
                       capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"a PostgreSQL server could not be started: {(r.stderr or r.stdout)[-400:]}")
    try:
        yield r.stdout.strip()
    finally:
        subprocess.run([str(ROOT / ".ci" / "pg-cluster"), "stop", folder], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

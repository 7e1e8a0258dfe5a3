"""A throwaway PostgreSQL cluster (initdb) for fault tests: crash it, restart it, never touch the system one."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.servers import free_port


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A cluster in a temp folder on a free port; `crash()` is `pg_ctl stop -m immediate` (no clean shutdown)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        # Not under pytest's tmp_path: that is 0700 root, and the server must run as `postgres` when we are root.
        self.directory = Path(tempfile.mkdtemp(prefix="parktwin-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self._as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> PrivatePostgres:
        """initdb with trust auth, listening on 127.0.0.1:port only (socket in our folder, not /var/run)."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.directory}'\n"
                       "max_connections = 200\nlog_min_messages = warning\n")
        return self

    def start(self) -> PrivatePostgres:
        """Start and wait until it accepts connections (crash recovery included)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        return self

    def crash(self) -> None:
        """Stop with `-m immediate`: every backend is killed, recovery replays the WAL on the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "stop", "-m", "immediate")

    def restart(self, down_for: float = 1.0) -> float:
        """Crash, stay down `down_for` seconds, start again; the seconds it was unreachable."""
        stopped = time.monotonic()
        self.crash()
        time.sleep(down_for)
        self.start()
        return time.monotonic() - stopped

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        """Stop (immediately) and delete the cluster."""
        if self.data.exists() and self.running():
            self._run("pg_ctl", "-D", str(self.data), "-w", "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

"""Real processes for tests: free ports, and the service run as an operator runs it (`twin serve`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from twin.settings import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class ServiceProcess:
    """`twin serve` in its own process group, so a test can kill -9 it (and its children) and start it again."""

    def __init__(self, database_url: str, data_dir: Path, *, workers: int = 1, log_path: Path | None = None, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = log_path  # the service's stderr (its JSON log lines) is appended here when given
        self.env = {**os.environ, "TWIN_DATABASE_URL": database_url, "TWIN_DATA_DIR": str(data_dir), "TWIN_LOG_LEVEL": "WARNING",
                    "TWIN_MQTT_ENABLED": "false", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        output = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        command = [sys.executable, "-m", "twin.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=output)
        if self.log_path:
            output.close()  # the child holds its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}")
            time.sleep(0.2)
        self.kill9()  # never leave a half-started service behind
        raise TimeoutError("service did not become healthy")

    def kill9(self) -> None:
        """SIGKILL the whole process group: no shutdown handlers run (a crash, a power cut)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

"""A private Mosquitto for tests: its own port and persistence folder, killable and restartable."""

from __future__ import annotations

import getpass
import shutil
import subprocess
from pathlib import Path

from tests.support.servers import free_port, wait_port


def mosquitto_path() -> str | None:
    """The mosquitto binary, or None when it is not installed."""
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


class Broker:
    """A private Mosquitto on a free port, with persistence, that a test can kill and restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence true",
                 f"persistence_location {directory}/", "max_queued_messages 100000", "log_dest none"]
        if getpass.getuser() == "root":
            lines.append("user root")  # otherwise Mosquitto drops to 'mosquitto', who cannot write here
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        self.process = subprocess.Popen([mosquitto_path() or "mosquitto", "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Mosquitto saves its sessions to the persistence file
            self.process.wait(10)
        self.process = None

"""Structured logging: one JSON object per line (or plain text for a terminal)."""

from __future__ import annotations

import logging
import logging.config
import time
from typing import Any

import orjson

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def dict_config(level: str = "INFO", json: bool = True) -> dict[str, Any]:
    """The root logger to stderr, as JSON lines or plain text, as a `logging.config` dict.

    `twin serve` hands it to uvicorn, which applies it in every worker process: worker processes start
    from a fresh interpreter, so a set-up made only in the parent would leave them with Python's default
    (warnings only, plain text).
    """
    formatter = {"()": "twin.logs.JsonFormatter"} if json else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {"version": 1, "disable_existing_loggers": False, "formatters": {"twin": formatter},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "twin"}},
            "root": {"handlers": ["stderr"], "level": level.upper()},
            "loggers": {"uvicorn.access": {"level": "WARNING"}}}


def configure(level: str = "INFO", json: bool = True) -> None:
    """Send the root logger to stderr, as JSON lines or plain text."""
    logging.config.dictConfig(dict_config(level, json))

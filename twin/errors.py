"""Domain errors raised by the service layer; api/errors.py maps them to HTTP in one table."""

from __future__ import annotations


class TwinError(Exception):
    """Root of the service's own errors; `message` is safe to show to the user."""

    def __init__(self, message: str, *, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(TwinError):
    """The named park, layer, feature, asset, job... does not exist."""


class Conflict(TwinError):
    """The request clashes with existing state (duplicate code, version race)."""


class InvalidInput(TwinError):
    """The input is malformed or unusable (bad file, bad CRS, bad filter)."""


class PayloadTooLarge(TwinError):
    """An upload or body exceeds the configured limit."""


class Unauthorized(TwinError):
    """No or an unknown credential."""


class Forbidden(TwinError):
    """The credential lacks the role or the park scope for this operation."""


class Unavailable(TwinError):
    """A dependency (database, broker) is down; retrying later may work."""

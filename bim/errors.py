"""Exceptions raised by the bim library; every message is user-facing and says what is wrong."""

from __future__ import annotations


class BimError(Exception):
    """Root of all bim errors."""


class InvalidIfc(BimError):
    """The uploaded file cannot be used as an IFC model (the uploader's fault: a 4xx, not a 500)."""


class UnsupportedSchema(InvalidIfc):
    """The file is IFC, but written in a schema this service does not read."""


class NoGeometry(InvalidIfc):
    """The model opened fine but has no product with 3D body geometry to show."""


class MissingGeoreference(InvalidIfc):
    """The model says nothing about where it is on Earth and no anchor was given."""


class KernelCrash(InvalidIfc):
    """The geometry kernel crashed (a C++ fault) on this file with every kernel tried."""


class ConversionTimeout(BimError):
    """The conversion took longer than the time allowed and was stopped."""

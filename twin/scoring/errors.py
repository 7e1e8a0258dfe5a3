"""Errors of the scoring package that are not the caller's fault."""

from __future__ import annotations


class RubricError(Exception):
    """The rubric file is malformed: a deployment error, reported with what is wrong and where."""

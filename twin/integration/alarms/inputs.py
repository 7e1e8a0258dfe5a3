"""Validate a dict against a pydantic model, turning its errors into one InvalidInput line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from twin.errors import InvalidInput
from twin.integration.assets.registry import validation_message

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: dict[str, Any]) -> M:
    """`model` validated from `data`, or InvalidInput listing `field: why` for each problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(validation_message(exc)) from None

"""The page's two string tables (zh-CN first, en) agree, and every device attribute the API accepts has words in both."""

from __future__ import annotations

import re
import typing
from collections import Counter
from pathlib import Path

import pytest

from twin.integration.assets.attributes import ATTRIBUTE_MODELS

TABLES = Path(__file__).resolve().parents[2] / "web" / "js" / "i18n"
# Values that read the same in either language (standards and product names): shown as they are.
AS_IS = {"resolution", "connector", "generation", "protocol"}


def _keys(name: str) -> list[str]:
    return re.findall(r'^\s*"([^"]+)"\s*:', (TABLES / name).read_text(encoding="utf-8"), re.M)


def _attributes() -> dict[str, set[str]]:
    """Every attribute name of every kind, with the codes its value may take (empty: free text or numbers)."""
    found: dict[str, set[str]] = {}
    for model in ATTRIBUTE_MODELS:
        for name, field in model.model_fields.items():
            if name == "kind":
                continue
            codes = found.setdefault(name, set())
            stack = [field.annotation]
            while stack:
                annotation = stack.pop()
                if typing.get_origin(annotation) is typing.Literal:
                    codes.update(typing.get_args(annotation))
                else:
                    stack.extend(typing.get_args(annotation))
    return found


@pytest.mark.parametrize("table", ["zh-CN.js", "en.js"])
def test_the_tables_have_the_same_keys_each_once(table: str) -> None:
    keys = _keys(table)
    assert [key for key, count in Counter(keys).items() if count > 1] == []
    assert set(keys) == set(_keys("zh-CN.js")) == set(_keys("en.js"))


@pytest.mark.parametrize("table", ["zh-CN.js", "en.js"])
def test_every_device_attribute_and_its_codes_have_words(table: str) -> None:
    keys = set(_keys(table))
    attributes = _attributes()
    assert len(attributes) > 30
    assert sorted(name for name in attributes if f"attr.{name}" not in keys) == []
    missing = sorted(f"{name}.{code}" for name, codes in attributes.items() if name not in AS_IS for code in codes
                     if f"attrValue.{name}.{code}" not in keys)
    assert missing == []

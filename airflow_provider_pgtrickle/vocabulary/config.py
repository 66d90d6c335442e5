"""Placeholder: filled in by the vocabulary work."""

from __future__ import annotations


def jinja_macros() -> dict[str, str]:
    return {}

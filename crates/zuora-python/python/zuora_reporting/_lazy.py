"""Modules loaded on first use rather than at ``import zuora_reporting``: httpx, asyncio,
logging and concurrent.futures take most of a hundred milliseconds to import, and a script
that only builds a client, or a sync one that never touches asyncio, should not pay for
them. A name bound to a `Lazy` reads like the module; the import happens at the first
attribute read (then it is a dictionary lookup in `sys.modules`)."""

from __future__ import annotations

import importlib
import sys
from typing import Any


class Lazy:
    """A module imported at its first attribute read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module = sys.modules.get(self._name) or importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"

"""The registry of DFT codes: name → an object with the :class:`~altermag.dft.protocol.DftCode`
methods.

QE (``qe``) and VASP (``vasp``) are built in and imported on first use; a third code is added
with :func:`register` (an object following the protocol) and is then accepted by
``verify`` (``code=<name>``) and chosen by ``code="auto"`` after the built-in ones when it is
:meth:`~altermag.dft.protocol.DftCode.available_here`.
"""

from __future__ import annotations

import importlib

from altermag.dft.protocol import DftCode
from altermag.errors import SettingsError

__all__ = ["UnknownCodeError", "available_codes", "get_code", "register"]

_BUILTIN = {"qe": "altermag.dft.qe.code:QE", "vasp": "altermag.dft.vasp.code:VASP"}
"""Built-in codes, in the order ``code="auto"`` tries them."""

_REGISTRY: dict[str, DftCode] = {}


class UnknownCodeError(SettingsError, ValueError):
    """No DFT code of that name is registered."""


def register(code: DftCode) -> None:
    """Add (or replace) ``code`` under ``code.name``."""
    _REGISTRY[code.name] = code


def available_codes() -> list[str]:
    """Names of every registered code, built-in ones first, in ``auto`` order."""
    return list(dict.fromkeys([*_BUILTIN, *_REGISTRY]))


def get_code(name: str) -> DftCode:
    """The code registered as ``name``.

    Raises
    ------
    UnknownCodeError
        When there is none.
    """
    if name not in _REGISTRY and name in _BUILTIN:
        module, attr = _BUILTIN[name].split(":")
        register(getattr(importlib.import_module(module), attr))
    if name not in _REGISTRY:
        raise UnknownCodeError(f"unknown DFT code {name!r}; known: {', '.join(available_codes())}")
    return _REGISTRY[name]

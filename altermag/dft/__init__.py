"""First-principles verification stage: inputs, runs, parsing and verdicts.

The stage turns a spin-group prediction (a :class:`~altermag.result.SpinGroupResult` with
its form factor and nodal planes) into a test: spin-polarised bands along a k-path that
crosses both directions where the form factor predicts a splitting and nodal planes where it
predicts none, and a :class:`~altermag.dft.verdict.DFTVerdict` comparing the two.

The names below are imported on first use: the k-path needs pymatgen's band-structure
module, about a second of imports that a command reading only a preset
(``altermag.dft.presets``) does not pay.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from altermag.dft.kpath import KPath, KSegment, build_kpath
    from altermag.dft.presets import load_preset
    from altermag.dft.qe.pseudo import PseudoError, find_pseudopotentials

__all__ = [
    "KPath",
    "KSegment",
    "PseudoError",
    "build_kpath",
    "find_pseudopotentials",
    "load_preset",
]

_HOME = {
    "KPath": "altermag.dft.kpath",
    "KSegment": "altermag.dft.kpath",
    "build_kpath": "altermag.dft.kpath",
    "load_preset": "altermag.dft.presets",
    "PseudoError": "altermag.dft.qe.pseudo",
    "find_pseudopotentials": "altermag.dft.qe.pseudo",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first access."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value

"""First-principles verification stage: inputs, runs, parsing and verdicts.

The stage turns a spin-group prediction (a :class:`~altermag.result.SpinGroupResult` with
its form factor and nodal planes) into a test: spin-polarised bands along a k-path that
crosses both directions where the form factor predicts a splitting and nodal planes where it
predicts none, and a :class:`~altermag.dft.verdict.DFTVerdict` comparing the two.
"""

from __future__ import annotations

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

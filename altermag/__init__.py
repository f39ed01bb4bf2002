"""altermag: discover altermagnets.

The library is pure, typed science code: structures with moments
(:class:`~altermag.structure.MagneticStructure`), the exact spin-group analysis
(:func:`analyze`, returning one :class:`~altermag.result.SpinGroupResult`), readers,
data sets, machine-learning and first-principles stages. It imports neither Prefect nor
FastAPI.
"""

from __future__ import annotations

from altermag.result import EnumeratedOrder, NodalPlane, SpinGroupResult
from altermag.structure import MagneticStructure

__version__ = "0.1.0"

__all__ = [
    "EnumeratedOrder",
    "MagneticStructure",
    "NodalPlane",
    "SpinGroupResult",
    "__version__",
    "analyze",
    "read_structure",
]


def __getattr__(name: str):  # lazy: keep `import altermag` light
    if name == "analyze":
        from altermag.symmetry import analyze

        return analyze
    if name == "read_structure":
        from altermag.io import read_structure

        return read_structure
    raise AttributeError(name)

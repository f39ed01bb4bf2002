"""The spin-group result: one dataclass shared by the CLI, flows, API and reports.

Everything here is plain data (strings, numbers, lists) so that ``to_dict()`` is
JSON-serialisable without custom encoders and ``from_dict()`` restores the same object.
``as_dict()`` adds monty's ``@module``/``@class`` keys (the MSONable protocol), so a result
can be the output of a jobflow/atomate2 job and is decoded back by ``MontyDecoder``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

__all__ = [
    "VERDICTS",
    "EnumeratedOrder",
    "NodalPlane",
    "SpinGroupResult",
    "Verdict",
    "Wave",
]

Verdict = Literal[
    "nonmagnetic",
    "ferromagnet",
    "ferrimagnet",
    "compensated_ferrimagnet",
    "antiferromagnet",
    "altermagnet",
    "noncollinear",
]
Wave = Literal["s", "d", "g", "i"]

#: One line per verdict, used by ``altermag analyze --help``, the docs and the reports.
VERDICTS: dict[str, str] = {
    "nonmagnetic": "no moments on any site (or none given and no magnetic element to order)",
    "ferromagnet": "all moments parallel: bands spin-split everywhere (s-wave)",
    "ferrimagnet": "antiparallel moments with a net moment: s-wave splitting",
    "compensated_ferrimagnet": "zero net moment by accident, no symmetry relates the "
    "sublattices: s-wave splitting",
    "antiferromagnet": "conventional: a translation [C2||t] or inversion [C2||-1] relates the "
    "sublattices, bands spin-degenerate at every k",
    "altermagnet": "sublattices related only by rotations/mirrors: d-, g- or i-wave splitting, "
    "zero net moment",
    "noncollinear": "moments not (anti)parallel; the d/g/i classification applies to collinear "
    "order only",
}


_ATOMIC = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(obj: Any) -> Any:
    """``dataclasses.asdict`` of ``obj``: dataclasses become dicts and containers are copied;
    immutable scalars, which ``asdict`` passes through ``copy.deepcopy`` to an equal value,
    are returned as they are."""
    if isinstance(obj, _ATOMIC):
        return obj
    if isinstance(obj, list):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return type(obj)((_plain(k), _plain(v)) for k, v in obj.items())
    if is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
        return {name: _plain(getattr(obj, name)) for name in names}
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # a named tuple, rebuilt field by field as asdict does
            return type(obj)(*[_plain(x) for x in obj])
        return type(obj)(_plain(x) for x in obj)
    return copy.deepcopy(obj)


@dataclass
class NodalPlane:
    """A spin-degenerate plane through Γ, k · n = 0.

    ``uvw`` is the plane normal as a direct-lattice direction of the *input* cell
    (k · (u a + v b + w c) = 0, i.e. h u + k v + l w = 0 for k = h b1 + k b2 + l b3),
    ``cartesian_normal`` the unit normal in the frame of ``form_factor``, and ``equation`` a
    human-readable form such as ``kx = 0``. ``enforced`` is True when a spin-flipping mirror of
    the spin Laue group forces the degeneracy; a plane that is a zero of the form factor but not
    fixed by symmetry (tetragonal ²4/¹m, monoclinic ²2/²m) is reported with ``enforced=False``.
    """

    uvw: list[int]
    cartesian_normal: list[float]
    equation: str
    enforced: bool = True


@dataclass
class EnumeratedOrder:
    """One collinear k = 0 order on a structure given without moments."""

    signs: list[int]
    """+1/−1 on every magnetic site, 0 on non-magnetic sites, in the input site order."""
    rank: int
    """1 = most plausible: by the ground-state prior when ``p_ground_state`` is set, else by the
    heuristic in ``reason``."""
    score: float
    """Heuristic score in [0, 1] (fraction of antiparallel near-neighbour pairs, shell-weighted)."""
    reason: str
    result: SpinGroupResult
    p_ground_state: float | None = None
    """The ground-state prior's probability that this is the crystal's ground state among the
    enumerated orders (:mod:`altermag.ml.prior`); None when no prior scored it. When set,
    ``rank`` is the prior's rank (:func:`altermag.ranking.rank_orders`)."""


@dataclass
class SpinGroupResult:
    """Spin-group classification of one collinear magnetic structure.

    Without spin–orbit coupling the symmetry of a collinear magnet is the set of pairs
    [s||g] with g = (R|t) a crystal operation and s ∈ {E, C2} keeping or flipping every
    moment. The verdict follows from the spin-flipping operations: none → ferro/ferri;
    a pure translation or an inversion among them → conventional antiferromagnet (Kramers-like
    spin degeneracy at every k); otherwise an altermagnet whose splitting Δ(k) = E↑ − E↓
    transforms as the one-dimensional character χ of the spin Laue group.
    """

    verdict: Verdict
    wave: Wave | None = None
    spin_laue_group: str | None = None
    spin_laue_group_ascii: str | None = None
    laue_group: str | None = None
    point_group: str | None = None
    form_factor: str | None = None
    form_factor_basis: list[str] = field(default_factory=list)
    nodal_planes: list[NodalPlane] = field(default_factory=list)
    space_group_symbol: str | None = None
    space_group_number: int | None = None
    magnetic_space_group: str | None = None
    magnetic_space_group_number: str | None = None
    magnetic_space_group_basis: str | None = None
    spin_flip_operations: list[str] = field(default_factory=list)
    afm_reason: str | None = None
    n_spin_group_operations: int = 0
    n_sites: int = 0
    n_magnetic_sites: int = 0
    moments: list[float] | None = None
    net_moment: float | None = None
    symprec: float = 0.0
    magtol: float = 0.0
    frame: str = "standard"
    """Cartesian frame of ``form_factor`` and nodal-plane normals: ``standard`` is spglib's
    standardized conventional setting of the crystal (for tetragonal and hexagonal cells
    a ∥ x and c ∥ z), reached from the input frame by ``frame_rotation``: k_std = Q k_input."""
    frame_rotation: list[list[float]] = field(
        default_factory=lambda: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    )
    warnings: list[str] = field(default_factory=list)
    enumerated: bool = False
    can_host_altermagnet: bool | None = None
    host_waves: list[str] = field(default_factory=list)
    orders: list[EnumeratedOrder] = field(default_factory=list)
    order_cell: dict[str, Any] | None = None
    """The cell (``MagneticStructure.to_dict()``) the enumerated orders' signs refer to, when it
    differs from the input cell (the primitive cell by default)."""

    # --------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain data: what :func:`dataclasses.asdict` gives, built without deep-copying every
        string and number (a screening stores one per enumerated order)."""
        return _plain(self)

    def as_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with ``@module``/``@class`` (monty's MSONable protocol)."""
        return {"@module": type(self).__module__, "@class": type(self).__name__, **self.to_dict()}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpinGroupResult:
        """Inverse of :meth:`to_dict` and :meth:`as_dict`."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["nodal_planes"] = [NodalPlane(**p) for p in d.get("nodal_planes", [])]
        kwargs["orders"] = [
            EnumeratedOrder(**{**o, "result": cls.from_dict(o["result"])})
            for o in d.get("orders", [])
        ]
        return cls(**kwargs)

    @property
    def is_altermagnet(self) -> bool:
        """True for a collinear altermagnet, or an unordered structure that can host one."""
        return self.verdict == "altermagnet" or bool(self.can_host_altermagnet)

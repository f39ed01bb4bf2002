"""Typed, validated DFT settings: what a preset says, grouped by what it is for.

A preset (``altermag/dft/presets/*.yaml``, package data) and the user's overrides are flat
mappings of documented keys (``ecutwfc``, ``encut``, ``split_min_ev``…, the names ``--set``
takes). :meth:`DftSettings.from_flat` checks every key and type and the physical bounds
(``ecutrho`` ≥ 4 ``ecutwfc``, a noise floor below the splitting a prediction needs…) and
builds the nested object the code works with:

- shared physics of both codes (k-mesh, smearing, SCF threshold, mixing, starting moments,
  DFT+U, band-path density) on :class:`DftSettings` itself;
- ``qe`` (:class:`QESettings`: functional, pseudopotentials, plane-wave cut-offs, bands
  threshold, extra bands) and ``vasp`` (:class:`VaspSettings`: ``ENCUT``, command, extra
  INCAR tags): what only one code reads;
- ``thresholds`` (:class:`Thresholds`: the splitting test's eV and μB limits);
- ``timeouts`` (:class:`Timeouts`: wall-clock limits of the SCF and bands steps);
- ``resources`` (:class:`~altermag.hpc.slurm.Resources`: the ``#SBATCH`` lines).

:meth:`DftSettings.flat` is the inverse (the JSON of ``settings.json`` and of a job's key), so
``DftSettings.from_flat(s.flat(), s.preset) == s``. Item access (``settings["encut"]``) reads
the flat view by its documented key name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from altermag.errors import SettingsError
from altermag.hpc.slurm import Resources

__all__ = [
    "SETTING_TYPES",
    "DftSettings",
    "PresetError",
    "QESettings",
    "Thresholds",
    "Timeouts",
    "VaspSettings",
]


class PresetError(SettingsError):
    """A preset or override is unknown or invalid."""


_NUMBER = (int, float)
SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "functional": (str,),
    "pseudopotentials": (dict,),
    "ecutwfc": _NUMBER,
    "ecutrho": _NUMBER,
    "ecutwfc_by_element": (dict,),
    "dual": _NUMBER,
    "qe_version": (str, type(None)),
    "kpoints": (list, type(None)),
    "kspacing": _NUMBER,
    "smearing": (str,),
    "degauss": _NUMBER,
    "conv_thr_per_atom": _NUMBER,
    "energy_kspacing": (int, float, type(None)),
    "energy_conv_thr_per_atom": (int, float, type(None)),
    "bands_diago_thr": (int, float, type(None)),
    "mixing_beta": _NUMBER,
    "moment_saturation": _NUMBER,
    "hubbard_u": (dict,),
    "hubbard_u_anions": (list,),
    "kpath_density": _NUMBER,
    "extra_bands": (int,),
    "window_ev": _NUMBER,
    "split_min_ev": _NUMBER,
    "noise_ev": _NUMBER,
    "moment_min": _NUMBER,
    "net_moment_tol": _NUMBER,
    "near_degenerate_mev": _NUMBER,
    "timeout_scf_s": _NUMBER,
    "timeout_bands_s": _NUMBER,
    "encut": _NUMBER,
    "vasp_ediff_per_atom": _NUMBER,
    "vasp_command": (str,),
    "vasp_incar": (dict,),
    "resources": (dict,),
}
"""Every flat setting and the types its value may have (documented in ``_base.yaml``)."""

_RESOURCE_KEYS = {"nodes", "ntasks", "cpus_per_task", "time", "mem", "partition", "account", "qos"}
"""Keys of ``resources`` (fields of :class:`altermag.hpc.Resources`, ``#SBATCH`` lines)."""


@dataclass(frozen=True)
class QESettings:
    """What only Quantum ESPRESSO reads."""

    functional: str
    """Exchange–correlation tag matched in pseudopotential file names (``pbe``)."""
    pseudopotentials: dict[str, str]
    """``{element: UPF file name}`` pinned instead of the search."""
    ecutwfc: float
    """Ry, wavefunction cut-off."""
    ecutrho: float
    """Ry, charge-density cut-off (≥ 4 ``ecutwfc``)."""
    ecutwfc_by_element: dict[str, float]
    """Ry, the least ``ecutwfc`` each element's pseudopotential needs (a deck uses the
    largest of ``ecutwfc`` and those of its elements)."""
    dual: float
    """``ecutrho`` is at least this times the deck's ``ecutwfc`` (4: norm-conserving)."""
    version: str | None
    """pw.x version the decks are written for (Hubbard syntax); None: the installed pw.x's."""
    bands_diago_thr: float | None
    """Ry, Davidson threshold of the bands step; None: pw.x's own."""
    extra_bands: int
    """Bands above half the electron count in the bands step."""

    def cutoffs(self, species: tuple[str, ...] | list[str]) -> tuple[float, float]:
        """(ecutwfc, ecutrho) in Ry of a deck with these elements: the largest of the
        preset's ``ecutwfc`` and the elements' own, and ``ecutrho`` at least ``dual`` times
        that."""
        wfc = max([self.ecutwfc, *(self.ecutwfc_by_element.get(el, 0.0) for el in species)])
        return wfc, max(self.ecutrho, self.dual * wfc)


@dataclass(frozen=True)
class VaspSettings:
    """What only VASP reads."""

    encut: float
    """eV, plane-wave cut-off (``ENCUT``)."""
    ediff_per_atom: float
    """eV per atom: ``EDIFF`` is this times the number of atoms (the Materials Project's
    scaling, 5e-5 eV per atom)."""
    command: str
    """VASP executable written into the job scripts (``ALTERMAG_VASP_CMD`` wins)."""
    incar: dict[str, Any]
    """Extra INCAR tags for both steps."""


@dataclass(frozen=True)
class Thresholds:
    """Limits of the splitting test (:func:`altermag.dft.verdict.judge`)."""

    window_ev: float
    """Band pairs within this of E_F count."""
    split_min_ev: float
    """A predicted split segment must reach this splitting."""
    noise_ev: float
    """A nodal segment must stay at or below this."""
    moment_min: float
    """μB: below this on every site the order collapsed."""
    net_moment_tol: float
    """μB per cell allowed for a compensated order."""
    near_degenerate_mev: float
    """meV per magnetic atom: a ground state ahead of the next converged order by less than
    this is reported near-degenerate."""

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class Timeouts:
    """Wall-clock limits (s) of the two steps of a local run."""

    scf_s: float
    bands_s: float


@dataclass(frozen=True)
class DftSettings:
    """A validated DFT preset with overrides (see the module docstring for the groups)."""

    preset: str
    kpoints: tuple[int, int, int] | None
    """Monkhorst–Pack mesh; None: from ``kspacing``."""
    kspacing: float
    """1/Å (2π included) between SCF k-points when ``kpoints`` is None."""
    smearing: str
    degauss: float
    """Ry."""
    conv_thr_per_atom: float
    """Ry per atom, SCF energy threshold (VASP's EDIFF from the same)."""
    energy_kspacing: float | None
    """1/Å (2π included) between the k-points of the ground-state search's SCFs (total
    energies of the orders, :meth:`for_energies`); None: ``kpoints``/``kspacing``."""
    energy_conv_thr_per_atom: float | None
    """Ry per atom, SCF threshold of the ground-state search's SCFs; None:
    ``conv_thr_per_atom``."""
    mixing_beta: float
    moment_saturation: float
    """μB: QE's starting magnetization is the moment over this."""
    hubbard_u: dict[str, float]
    """``{element: U (eV)}``; empty: no DFT+U."""
    hubbard_u_anions: tuple[str, ...]
    """Apply ``hubbard_u`` only when one of these is present (empty: always)."""
    kpath_density: float
    """Band k-points per 1/Å along the path."""
    qe: QESettings
    vasp: VaspSettings
    thresholds: Thresholds
    timeouts: Timeouts
    resources: Resources = field(default_factory=Resources)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_flat(cls, flat: Mapping[str, Any], preset: str = "custom") -> DftSettings:
        """Validate a complete flat mapping (every key of ``_base.yaml``) and group it.

        Raises
        ------
        PresetError
            For an unknown key, a wrong type, a missing key or a value out of bounds.
        """
        s = dict(flat)
        s.pop("preset", None)
        _validate(s)
        res = {k: v for k, v in s["resources"].items()}
        kp = s["kpoints"]
        return cls(
            preset=preset,
            kpoints=None if kp is None else (int(kp[0]), int(kp[1]), int(kp[2])),
            kspacing=float(s["kspacing"]),
            smearing=str(s["smearing"]),
            degauss=float(s["degauss"]),
            conv_thr_per_atom=float(s["conv_thr_per_atom"]),
            energy_kspacing=_maybe_float(s["energy_kspacing"]),
            energy_conv_thr_per_atom=_maybe_float(s["energy_conv_thr_per_atom"]),
            mixing_beta=float(s["mixing_beta"]),
            moment_saturation=float(s["moment_saturation"]),
            hubbard_u={str(k): float(v) for k, v in s["hubbard_u"].items()},
            hubbard_u_anions=tuple(str(x) for x in s["hubbard_u_anions"]),
            kpath_density=float(s["kpath_density"]),
            qe=QESettings(
                functional=str(s["functional"]),
                pseudopotentials={str(k): str(v) for k, v in s["pseudopotentials"].items()},
                ecutwfc=float(s["ecutwfc"]),
                ecutrho=float(s["ecutrho"]),
                ecutwfc_by_element={str(k): float(v) for k, v in s["ecutwfc_by_element"].items()},
                dual=float(s["dual"]),
                version=None if s["qe_version"] is None else str(s["qe_version"]),
                bands_diago_thr=(
                    None if s["bands_diago_thr"] is None else float(s["bands_diago_thr"])
                ),
                extra_bands=int(s["extra_bands"]),
            ),
            vasp=VaspSettings(
                encut=float(s["encut"]),
                ediff_per_atom=float(s["vasp_ediff_per_atom"]),
                command=str(s["vasp_command"]),
                incar=dict(s["vasp_incar"]),
            ),
            thresholds=Thresholds(
                window_ev=float(s["window_ev"]),
                split_min_ev=float(s["split_min_ev"]),
                noise_ev=float(s["noise_ev"]),
                moment_min=float(s["moment_min"]),
                net_moment_tol=float(s["net_moment_tol"]),
                near_degenerate_mev=float(s["near_degenerate_mev"]),
            ),
            timeouts=Timeouts(float(s["timeout_scf_s"]), float(s["timeout_bands_s"])),
            resources=Resources(**res),
        )

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> DftSettings:
        """These settings with flat ``overrides`` applied (validated again)."""
        if not overrides:
            return self
        return DftSettings.from_flat({**self.flat(), **overrides}, self.preset)

    # -- views ---------------------------------------------------------------------------
    def flat(self) -> dict[str, Any]:
        """The flat, JSON-ready mapping of documented keys (without ``preset``)."""
        defaults = Resources()
        resources = {
            k: v
            for k, v in dataclasses.asdict(self.resources).items()
            if k in _RESOURCE_KEYS and v != getattr(defaults, k)
        }
        return {
            "functional": self.qe.functional,
            "pseudopotentials": dict(self.qe.pseudopotentials),
            "ecutwfc": self.qe.ecutwfc,
            "ecutrho": self.qe.ecutrho,
            "ecutwfc_by_element": dict(self.qe.ecutwfc_by_element),
            "dual": self.qe.dual,
            "qe_version": self.qe.version,
            "kpoints": None if self.kpoints is None else list(self.kpoints),
            "kspacing": self.kspacing,
            "smearing": self.smearing,
            "degauss": self.degauss,
            "conv_thr_per_atom": self.conv_thr_per_atom,
            "energy_kspacing": self.energy_kspacing,
            "energy_conv_thr_per_atom": self.energy_conv_thr_per_atom,
            "bands_diago_thr": self.qe.bands_diago_thr,
            "mixing_beta": self.mixing_beta,
            "moment_saturation": self.moment_saturation,
            "hubbard_u": dict(self.hubbard_u),
            "hubbard_u_anions": list(self.hubbard_u_anions),
            "kpath_density": self.kpath_density,
            "extra_bands": self.qe.extra_bands,
            "window_ev": self.thresholds.window_ev,
            "split_min_ev": self.thresholds.split_min_ev,
            "noise_ev": self.thresholds.noise_ev,
            "moment_min": self.thresholds.moment_min,
            "net_moment_tol": self.thresholds.net_moment_tol,
            "near_degenerate_mev": self.thresholds.near_degenerate_mev,
            "timeout_scf_s": self.timeouts.scf_s,
            "timeout_bands_s": self.timeouts.bands_s,
            "encut": self.vasp.encut,
            "vasp_ediff_per_atom": self.vasp.ediff_per_atom,
            "vasp_command": self.vasp.command,
            "vasp_incar": dict(self.vasp.incar),
            "resources": resources,
        }

    def to_dict(self) -> dict[str, Any]:
        """:meth:`flat` with the preset name (what ``settings.json`` holds)."""
        return {**self.flat(), "preset": self.preset}

    def __getitem__(self, key: str) -> Any:
        """A setting by its flat key name (``settings["ecutwfc"]``)."""
        if key == "preset":
            return self.preset
        flat = self.flat()
        if key not in flat:
            raise KeyError(key)
        return flat[key]

    def for_energies(self) -> DftSettings:
        """The settings of the ground-state search's SCFs (the orders' total energies).

        What decides between orders is a difference of total energies of the same cell with
        the same basis, and it converges with a coarser k-mesh and a looser SCF threshold
        than the eigenvalues of the band check (whose nodal lines must stay degenerate to
        ~1 meV): ``energy_kspacing`` replaces ``kpoints``/``kspacing`` and
        ``energy_conv_thr_per_atom`` replaces ``conv_thr_per_atom`` when set. Everything else
        (cut-offs, smearing, U, mixing) is these settings'.
        """
        changes: dict[str, Any] = {}
        if self.energy_kspacing is not None:
            changes.update(kpoints=None, kspacing=self.energy_kspacing)
        if self.energy_conv_thr_per_atom is not None:
            changes["conv_thr_per_atom"] = self.energy_conv_thr_per_atom
        return self.with_overrides(changes)

    def hubbard_for(self, species: tuple[str, ...] | list[str]) -> dict[str, float]:
        """``{element: U (eV)}`` for the elements present, applied like the Materials Project:
        only when one of ``hubbard_u_anions`` is present (empty list: always); zeros dropped."""
        present = set(species)
        if self.hubbard_u_anions and not set(self.hubbard_u_anions) & present:
            return {}
        return {el: u for el, u in self.hubbard_u.items() if el in present and u != 0.0}


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _validate(settings: dict[str, Any]) -> None:
    for key, value in settings.items():
        if key not in SETTING_TYPES:
            raise PresetError(
                f"unknown DFT setting {key!r}; known: {', '.join(sorted(SETTING_TYPES))}"
            )
        if isinstance(value, bool) or not isinstance(value, SETTING_TYPES[key]):
            raise PresetError(f"setting {key!r} = {value!r} has the wrong type")
    missing = sorted(set(SETTING_TYPES) - set(settings))
    if missing:
        raise PresetError(f"DFT settings lack {', '.join(missing)}")
    if settings["ecutrho"] < 4 * settings["ecutwfc"]:
        raise PresetError("ecutrho must be at least 4 x ecutwfc")
    kp = settings["kpoints"]
    if kp is not None and (len(kp) != 3 or any(not isinstance(n, int) or n < 1 for n in kp)):
        raise PresetError(f"kpoints must be three positive integers, got {kp!r}")
    if settings["dual"] < 4:
        raise PresetError("dual must be at least 4 (norm-conserving; 8-12 for PAW/ultrasoft)")
    for el, cut in settings["ecutwfc_by_element"].items():
        if isinstance(cut, bool) or not isinstance(cut, _NUMBER) or cut <= 0:
            raise PresetError(f"ecutwfc_by_element of {el} must be a positive number of Ry")
    version = settings["qe_version"]
    if version is not None and not re.match(r"^\d+\.\d+", version):
        raise PresetError(f"qe_version must look like 6.7 or 7.2, got {version!r}")
    for key in (
        "kspacing",
        "degauss",
        "kpath_density",
        "moment_saturation",
        "ecutwfc",
        "encut",
        "vasp_ediff_per_atom",
    ):
        if settings[key] <= 0:
            raise PresetError(f"{key} must be positive")
    for key in ("timeout_scf_s", "timeout_bands_s"):
        if settings[key] <= 0:
            raise PresetError(f"{key} must be positive")
    for key in ("energy_kspacing", "energy_conv_thr_per_atom"):
        if settings[key] is not None and settings[key] <= 0:
            raise PresetError(f"{key} must be positive, or null")
    thr = settings["bands_diago_thr"]
    if thr is not None and not 0 < thr <= 1e-4:
        raise PresetError("bands_diago_thr must be in (0, 1e-4] Ry, or null")
    if not 0 < settings["mixing_beta"] <= 1:
        raise PresetError("mixing_beta must be in (0, 1]")
    bad = set(settings["resources"]) - _RESOURCE_KEYS
    if bad:
        raise PresetError(f"unknown resources {sorted(bad)}; known: {sorted(_RESOURCE_KEYS)}")
    if settings["noise_ev"] >= settings["split_min_ev"]:
        raise PresetError("noise_ev must be below split_min_ev")
    for el, u in settings["hubbard_u"].items():
        if isinstance(u, bool) or not isinstance(u, _NUMBER) or not 0 <= u <= 15:
            raise PresetError(f"hubbard_u of {el} must be a number of eV in [0, 15]")

"""DFT presets: YAML files in ``altermag/dft/presets``, layered and validated.

Layering is ``_base.yaml`` (every key, documented) < the named preset < user overrides
(a dict, e.g. from ``--set`` or a user YAML). Unknown keys and wrong types raise
:class:`PresetError`, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from altermag.errors import SettingsError

__all__ = ["PRESET_DIR", "PresetError", "available_presets", "load_preset"]

PRESET_DIR = Path(__file__).resolve().parent

_NUMBER = (int, float)
_TYPES: dict[str, tuple[type, ...]] = {
    "functional": (str,),
    "pseudopotentials": (dict,),
    "ecutwfc": _NUMBER,
    "ecutrho": _NUMBER,
    "kpoints": (list, type(None)),
    "kspacing": _NUMBER,
    "smearing": (str,),
    "degauss": _NUMBER,
    "conv_thr_per_atom": _NUMBER,
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
    "timeout_scf_s": _NUMBER,
    "timeout_bands_s": _NUMBER,
    "encut": _NUMBER,
    "vasp_command": (str,),
    "vasp_incar": (dict,),
    "resources": (dict,),
}


_RESOURCE_KEYS = {"nodes", "ntasks", "cpus_per_task", "time", "mem", "partition", "account", "qos"}
"""Keys of ``resources`` (fields of :class:`altermag.hpc.Resources`, ``#SBATCH`` lines)."""


class PresetError(SettingsError):
    """A preset or override is unknown or invalid."""


def available_presets(folder: Path | None = None) -> list[str]:
    """Names of the presets (file stems, ``_base`` excluded)."""
    root = folder or PRESET_DIR
    return sorted(p.stem for p in root.glob("*.yaml") if not p.stem.startswith("_"))


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise PresetError(f"{path}: a preset is a mapping of settings")
    return data


def _validate(settings: dict[str, Any]) -> dict[str, Any]:
    for key, value in settings.items():
        if key not in _TYPES:
            raise PresetError(f"unknown DFT setting {key!r}; known: {', '.join(sorted(_TYPES))}")
        if isinstance(value, bool) or not isinstance(value, _TYPES[key]):
            raise PresetError(f"setting {key!r} = {value!r} has the wrong type")
    if settings["ecutrho"] < 4 * settings["ecutwfc"]:
        raise PresetError("ecutrho must be at least 4 x ecutwfc")
    kp = settings["kpoints"]
    if kp is not None and (len(kp) != 3 or any(not isinstance(n, int) or n < 1 for n in kp)):
        raise PresetError(f"kpoints must be three positive integers, got {kp!r}")
    for key in ("kspacing", "degauss", "kpath_density", "moment_saturation"):
        if settings[key] <= 0:
            raise PresetError(f"{key} must be positive")
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
    return settings


def load_preset(
    name: str = "default",
    overrides: dict[str, Any] | None = None,
    folder: Path | None = None,
) -> dict[str, Any]:
    """Settings of preset ``name`` with ``overrides`` applied, validated.

    Parameters
    ----------
    name
        Preset name (a YAML file stem in ``folder``) or a path to a YAML file.
    overrides
        Settings that win over the preset.
    folder
        Preset folder; default ``altermag/dft/presets`` of the repository.
    """
    root = folder or PRESET_DIR
    settings = _read(root / "_base.yaml")
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = root / f"{name}.yaml"
    if not path.is_file():
        raise PresetError(f"no preset {name!r}; available: {', '.join(available_presets(root))}")
    settings.update(_read(path))
    settings.update(overrides or {})
    settings["preset"] = path.stem
    preset = settings.pop("preset")
    _validate(settings)
    settings["preset"] = preset
    return settings

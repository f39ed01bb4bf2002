"""DFT presets: YAML files shipped inside the package, layered and validated.

Layering is ``_base.yaml`` (every key, documented) < the named preset < user overrides
(a mapping, e.g. from ``--set`` or keyword arguments). Unknown keys and wrong types raise
:class:`PresetError`, so a typo cannot silently fall back to a default. The result is a
typed :class:`~altermag.dft.settings.DftSettings`.

The presets are package data (``altermag/dft/presets/*.yaml``): a wheel or the Docker image
has them; a user's own preset is a path to a YAML file with any subset of the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from altermag.dft.settings import DftSettings, PresetError

__all__ = [
    "DEFAULT_PRESET",
    "MAX_SEARCH_ORDERS",
    "PRESET_DIR",
    "SEARCH_ORDERS",
    "PresetError",
    "available_presets",
    "load_preset",
]

PRESET_DIR = Path(__file__).resolve().parent

DEFAULT_PRESET = "fast"
"""The preset of ``dft verify``, ``discover`` and the flows when none is named."""

SEARCH_ORDERS = 8
"""Orders of the ranking a ground-state search computes when none is said: one SCF each (the
ferromagnet and the best-ranked conventional antiferromagnet come on top when the cut leaves
them out)."""

MAX_SEARCH_ORDERS = 16
"""The most orders one ground-state search may be asked for (each is an SCF of the whole
cell; a scheduled flow or a command line asking for more is refused)."""


def available_presets(folder: Path | None = None) -> list[str]:
    """Names of the presets (file stems, ``_base`` excluded)."""
    root = folder or PRESET_DIR
    return sorted(p.stem for p in root.glob("*.yaml") if not p.stem.startswith("_"))


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise PresetError(f"{path}: a preset is a mapping of settings")
    return data


def load_preset(
    name: str = DEFAULT_PRESET,
    overrides: Mapping[str, Any] | None = None,
    folder: Path | None = None,
) -> DftSettings:
    """Settings of preset ``name`` with ``overrides`` applied, validated.

    Parameters
    ----------
    name
        Preset name (a YAML file stem in ``folder``) or a path to a YAML file.
    overrides
        Flat settings that win over the preset (``{"ecutwfc": 60.0}``).
    folder
        Preset folder; default the package's ``altermag/dft/presets``.
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
    settings.pop("preset", None)
    return DftSettings.from_flat(settings, path.stem)

"""Tools a test needs: skipped on a developer's machine that lacks one, a failure under CI.

Mark a test (or a module, through ``pytestmark``) with :func:`requires`; check inside a test
or fixture, or at the top of a module that imports an optional package, with :func:`need`.
Under CI (``CI=true``; ``make test`` and ``.ci/run`` set it) a missing tool fails the test
with the reason, so nothing can silently skip there::

    @requires("pw.x", "qe-pseudos")
    def test_afm_cr_scf(tmp_path): ...

    pytestmark = requires("magndata")

Names: ``pw.x``, ``qe-pseudos`` (the Debian quantum-espresso-data pslibrary files the QE
tests use), ``postgres``, ``chromium``, ``slurm`` (a single-node cluster can start: root,
munge, slurmctld, slurmd), ``magndata`` (a folder of MAGNDATA mCIF files at
``$ALTERMAG_MAGNDATA_DIR``), and the optional Python packages ``prefect``,
``prefect_dask``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable
from functools import cache

import pytest

__all__ = ["TOOLS", "in_ci", "missing", "need", "requires"]


def in_ci() -> bool:
    """True under continuous integration (``CI`` set to true/1/yes)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _module(name: str) -> Callable[[], str | None]:
    def check() -> str | None:
        found = importlib.util.find_spec(name) is not None
        return None if found else f"the Python package {name} is not installed"

    return check


def _executable(*names: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if any(shutil.which(n) for n in names):
            return None
        return f"{' or '.join(names)} is not on PATH (scripts/apt-packages.txt installs it)"

    return check


def _qe_pseudos() -> str | None:
    from altermag.dft.qe.pseudo import DEBIAN_PSEUDO_DIR

    if (DEBIAN_PSEUDO_DIR / "Cr.pbe-spn-kjpaw_psl.1.0.0.UPF").is_file():
        return None
    return f"no QE pseudopotentials in {DEBIAN_PSEUDO_DIR} (apt install quantum-espresso-data)"


def _postgres() -> str | None:
    from tests.conftest import PG_ADMIN_URL, _postgres_reachable

    if _postgres_reachable():
        return None
    return f"PostgreSQL not reachable at {PG_ADMIN_URL} (run scripts/ensure-postgres.sh)"


def _slurm() -> str | None:
    from tests.slurm_cluster import SlurmCluster

    why = SlurmCluster.available()
    return f"cannot start Slurm: {why}" if why else None


def _magndata() -> str | None:
    from altermag.config import get_settings

    folder = get_settings().magndata_dir
    if folder.is_dir() and next(folder.rglob("*.mcif"), None) is not None:
        return None
    return f"no MAGNDATA .mcif files under {folder} (set ALTERMAG_MAGNDATA_DIR)"


TOOLS: dict[str, Callable[[], str | None]] = {
    "pw.x": _executable("pw.x"),
    "qe-pseudos": _qe_pseudos,
    "postgres": _postgres,
    "chromium": _executable("chromium", "chromium-browser"),
    "slurm": _slurm,
    "magndata": _magndata,
    **{m: _module(m) for m in ("prefect", "prefect_dask", "ot")},
}
"""Each tool's check: None when it is there, else why not."""


@cache
def missing(name: str) -> str | None:
    """Why ``name`` is not available here (None when it is); checked once per session."""
    if name not in TOOLS:
        raise KeyError(f"unknown requirement {name!r}; known: {', '.join(sorted(TOOLS))}")
    return TOOLS[name]()


def need(*names: str) -> None:
    """Skip the running test (or, at import, the module) when a tool is missing here; fail
    it under CI."""
    for name in names:
        why = missing(name)
        if why is not None:
            if in_ci():
                pytest.fail(f"CI=true and a required tool is missing: {why}", pytrace=False)
            pytest.skip(why, allow_module_level=True)


def requires(*names: str) -> pytest.MarkDecorator:
    """Mark a test (or module) as needing these tools (checked at setup by ``need``)."""
    for name in names:
        if name not in TOOLS:
            raise KeyError(f"unknown requirement {name!r}; known: {', '.join(sorted(TOOLS))}")
    return pytest.mark.requires(*names)

"""The documentation stands alone and its module list matches the tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("altermag", "api/altermag_api", "flows/altermag_flows")


def _tracked(*patterns: str) -> list[Path]:
    git = ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"]
    out = subprocess.run(
        [*git, *patterns],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / p for p in out.split() if (ROOT / p).is_file()]


def test_every_module_is_in_the_architecture_page() -> None:
    """Each module of the library, the service and the flows is named in docs/architecture.md
    (as ``name.py`` or ``name``), migrations and package ``__init__`` files aside."""
    text = ARCHITECTURE.read_text()
    named = set(re.findall(r"`([\w./]+?)(?:\.py)?`", text)) | set(re.findall(r"(\w+)\.py", text))
    modules = [
        p
        for p in _tracked(*(f"{pkg}/**.py" for pkg in PACKAGES))
        if "migrations" not in p.parts and p.name != "__init__.py"
    ]
    assert len(modules) > 90
    missing = sorted(str(p.relative_to(ROOT)) for p in modules if p.stem not in named)
    assert not missing, f"not in docs/architecture.md: {missing}"


# names of what lies outside the repository, assembled so this file does not cite them
OUTSIDE_DOC = "DES" + "IGN"
OUTSIDE_FOLDER = ".." + "/shared"


def test_nothing_cites_a_document_outside_the_repository() -> None:
    """No code, test or page refers to a design document or folder outside the repository
    (the configurable default MAGNDATA folder of altermag/config.py aside)."""
    offenders = []
    for path in _tracked("*.py", "*.md", "*.toml", "*.yaml", "*.yml", "Makefile", "Dockerfile"):
        own_default = path == ROOT / "altermag" / "config.py"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            outside = f"{OUTSIDE_DOC}.md" in line or f"{OUTSIDE_DOC} §" in line
            if outside or (OUTSIDE_FOLDER in line and not own_default):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders

"""The layers of docs/architecture.md: the library needs neither the service nor the flows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: the library may not import it")
sys.meta_path.insert(0, Block())
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_every_library_module_imports_without_service_or_flows() -> None:
    """Each module of altermag/ imports with altermag_api, altermag_flows, FastAPI, uvicorn and
        Prefect made unimportable (the migration environment runs only under Alembic, ``__main__``
    modules only as programs)."""
    blocked = {"altermag_api", "altermag_flows", "fastapi", "uvicorn", "prefect"}
    code = (
        BLOCK.format(blocked=blocked)
        + """
import importlib, pkgutil, altermag
names = [m.name for m in pkgutil.walk_packages(altermag.__path__, "altermag.")
         if m.name != "altermag.store.migrations.env" and not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 80


def test_the_command_line_loads_heavy_layers_only_when_a_command_needs_them() -> None:
    """``altermag --help`` imports no web framework, workflow engine, database or torch."""
    code = """
import sys
from altermag.cli import app
heavy = ("prefect", "fastapi", "uvicorn", "sqlalchemy", "torch", "altermag_api", "altermag_flows")
print(sorted(m for m in heavy if m in sys.modules))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

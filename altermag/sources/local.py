"""A folder of structure files (CIF, mCIF, POSCAR(+INCAR), JSON, extxyz), searched recursively."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from altermag.io import StructureReadError, read_structure
from altermag.sources import Page, Record, SourceError

__all__ = ["STRUCTURE_PATTERNS", "LocalSource", "structure_files"]

STRUCTURE_PATTERNS = ("*.cif", "*.mcif", "*.json", "*.extxyz", "*.vasp", "POSCAR*", "CONTCAR*")


def structure_files(root: Path) -> list[Path]:
    """Structure files under ``root`` in a stable (sorted) order; INCARs are read beside POSCARs."""
    found: set[Path] = set()
    for pattern in STRUCTURE_PATTERNS:
        found.update(p for p in root.rglob(pattern) if p.is_file())
    return sorted(found, key=lambda p: str(p.relative_to(root)))


@dataclass
class LocalSource:
    """Every structure file under ``path``; a bad file becomes one error record, the rest go on.

    The cursor is the number of files already consumed (files are taken in sorted order).
    """

    path: Path
    page_size: int = 100
    name: str = "local"

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.is_dir():
            problem = "is a file, not a folder" if self.path.exists() else "no such folder"
            raise SourceError(f"source path {self.path}: {problem}")

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        files = structure_files(self.path)
        start = int(cursor or 0)
        for lo in range(start, len(files), self.page_size):
            chunk = files[lo : lo + self.page_size]
            records = [self._record(p) for p in chunk]
            hi = lo + len(chunk)
            yield Page(records, str(hi) if hi < len(files) else None)

    def _record(self, path: Path) -> Record:
        rel = str(path.relative_to(self.path))
        meta = {"path": str(path), "source": self.name}
        try:
            return Record(rel, read_structure(path), meta)
        except StructureReadError as exc:
            return Record(rel, None, meta, error=str(exc))

"""MAGNDATA magnetic CIF collections (a folder or a zip of ``*.mcif``).

MAGNDATA (Bilbao Crystallographic Server) names its files by entry id, e.g. ``0.15.mcif`` for
MnF2 (``0.x``: k = 0 structures, ``1.x``: one other propagation vector, ``1.0.x``: a k = 0 and a
non-zero vector together, ``2.x``/``3.x``: two or more vectors). Collections name files
``<id>_<formula>.mcif`` (``1.0.48_MnSe2.mcif`` → ``1.0.48``) and corrected re-releases
``revised_<id>_<formula>.mcif`` (record id ``<id>-revised``, flagged ``revised`` in the record
metadata, so both versions of an entry stay distinct). The ``_citation_*`` items of each file
are kept as its reference.

A zip is unpacked into a temporary folder with bounds, so a small crafted archive (a "zip
bomb") cannot fill memory or disk: at most :data:`MAX_MEMBERS` mCIF members, each at most
:data:`MAX_MEMBER_BYTES` and :data:`MAX_RATIO` times its compressed size, all together at most
:data:`MAX_TOTAL_BYTES`. The sizes are counted while decompressing, in blocks, not taken from
the archive's headers (which an attacker writes). Members that would land outside the folder
("zip slip") are skipped.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from altermag.errors import InputError, LimitError
from altermag.io import StructureReadError, read_structure
from altermag.sources import Page, Record, SourceError

__all__ = [
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "MagndataSource",
    "extract_mcifs",
    "is_revised",
    "magndata_id",
    "mcif_citation",
]

_ID = re.compile(r"^(?P<revised>revised_)?(?P<id>\d+(?:\.\d+)+?)(?=_|\.mcif$|$)", re.IGNORECASE)

MAX_MEMBERS = 100_000
"""mCIF files one archive may hold (MAGNDATA has a few thousand)."""
MAX_MEMBER_BYTES = 64 * 2**20
"""Uncompressed bytes of one mCIF (the largest MAGNDATA entries are well below 1 MB)."""
MAX_TOTAL_BYTES = 2 * 2**30
"""Uncompressed bytes of all mCIFs of one archive together."""
MAX_RATIO = 200
"""Uncompressed / compressed size of one member; CIF text deflates about 5-20 times."""
_BLOCK = 2**20


def extract_mcifs(
    archive: Path,
    workdir: Path,
    *,
    max_members: int = MAX_MEMBERS,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
) -> list[Path]:
    """Unpack the ``*.mcif`` members of ``archive`` into ``workdir`` within the bounds above.

    Raises
    ------
    LimitError
        The archive exceeds a bound (the partly written folder is left to the caller).
    """
    written: list[Path] = []
    total = 0
    root = workdir.resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{archive.name}: not a readable zip archive ({exc})") from None
    with zf:
        members = [i for i in zf.infolist() if i.filename.lower().endswith(".mcif")]
        if len(members) > max_members:
            raise LimitError(
                f"{archive.name}: {len(members)} mCIF members, more than the limit {max_members}"
            )
        for info in members:
            target = (root / info.filename).resolve()
            if root not in target.parents:
                continue  # never write outside the work folder
            target.parent.mkdir(parents=True, exist_ok=True)
            size = 0
            limit = min(max_member_bytes, max(info.compress_size, 1) * max_ratio)
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while block := src.read(_BLOCK):
                        size += len(block)
                        total += len(block)
                        if size > limit:
                            raise LimitError(
                                f"{archive.name}: member {info.filename!r} unpacks to more than "
                                f"{limit} bytes (limits: {max_member_bytes} bytes per file, "
                                f"{max_ratio:g} times its compressed size); not a MAGNDATA "
                                "archive"
                            )
                        if total > max_total_bytes:
                            raise LimitError(
                                f"{archive.name}: unpacks to more than {max_total_bytes} bytes"
                            )
                        dst.write(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputError(
                    f"{archive.name}: damaged member {info.filename!r} ({exc})"
                ) from None
            written.append(target)
    return written


def magndata_id(path: Path) -> str:
    """MAGNDATA id from a file name, else the file stem.

    ``0.15.mcif`` → ``0.15``; ``1.0.48_MnSe2.mcif`` → ``1.0.48``;
    ``revised_0.226_NdCo2.mcif`` → ``0.226`` (see :func:`is_revised`).
    """
    m = _ID.match(path.name)
    return m.group("id") if m else path.stem


def is_revised(path: Path) -> bool:
    """True for a corrected re-release of an entry (``revised_<id>_…``)."""
    m = _ID.match(path.name)
    return bool(m and m.group("revised"))


def mcif_citation(path: Path) -> dict[str, Any]:
    """``_citation_*`` items (journal, volume, page, year, DOI) of an mCIF, without prefix."""
    out: dict[str, Any] = {}
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("_citation_"):
            key, _, value = line.partition(" ")
            value = value.strip().strip("'\"")
            if value and value not in ("?", "."):
                out[key[len("_citation_") :].replace(".", "_")] = value
    return out


@dataclass
class MagndataSource:
    """Every ``*.mcif`` in a folder (recursive) or a zip archive, in sorted order."""

    path: Path
    page_size: int = 100
    name: str = "magndata"

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.exists():
            raise SourceError(f"source path {self.path}: no such folder or zip file")

    def _files(self, workdir: Path) -> list[Path]:
        if self.path.is_dir():
            root = self.path
        elif zipfile.is_zipfile(self.path):
            extract_mcifs(self.path, workdir)
            root = workdir
        else:
            raise InputError(f"{self.path}: neither a folder nor a zip archive")
        return sorted(root.rglob("*.mcif"), key=lambda p: (magndata_id(p), p.name))

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        with tempfile.TemporaryDirectory(prefix="magndata-") as tmp:
            files = self._files(Path(tmp))
            start = int(cursor or 0)
            for lo in range(start, len(files), self.page_size):
                chunk = files[lo : lo + self.page_size]
                records = []
                for p in chunk:
                    meta: dict[str, Any] = {"source": self.name, "file": p.name}
                    mid = magndata_id(p)
                    if is_revised(p):
                        meta["revised"] = True
                        mid = f"{mid}-revised"
                    try:
                        meta["reference"] = mcif_citation(p)
                        structure = read_structure(p, fmt="mcif")
                        records.append(Record(f"magndata:{mid}", structure, meta))
                    except StructureReadError as exc:
                        records.append(Record(f"magndata:{mid}", None, meta, error=str(exc)))
                hi = lo + len(chunk)
                yield Page(records, str(hi) if hi < len(files) else None)

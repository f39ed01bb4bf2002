"""Materials: crystal structures stored once per content hash, with their element index.

A material is the structure as given (lattice, species, positions, moments if any); its
content hash makes storing the same crystal twice a no-op, whatever the source. The source
and source id of the first sighting are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from altermag.formulas import optimade_formulas
from altermag.prototypes import prototype_key
from altermag.store.candidates import normalise_element
from altermag.store.database import BulkInsert, Database, batches
from altermag.store.dft_jobs import dft_record
from altermag.store.engine import encode_json
from altermag.store.models import Material, MaterialElement, utcnow
from altermag.store.orders import order_record
from altermag.store.records import MaterialRecord, as_utc
from altermag.store.scores import score_record
from altermag.structure import MagneticStructure

__all__ = ["MaterialRepository", "MaterialRow"]

MaterialRow = tuple[MagneticStructure, str | None, str | None]
"""``(structure, source, source_id)``."""


class MaterialRepository:
    """Store structures once; read a material with everything stored about it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = BulkInsert(
            db, db.insert(Material).on_conflict_do_nothing(index_elements=["content_hash"])
        )
        self._insert_elements = BulkInsert(
            db,
            db.insert(MaterialElement).on_conflict_do_nothing(
                index_elements=["material_id", "element"]
            ),
        )

    def add(
        self,
        structure: MagneticStructure,
        source: str | None = None,
        source_id: str | None = None,
    ) -> int:
        """Store a structure (once per content hash) and return its material id.

        The source and source id of the first sighting are kept; a later sighting of the same
        structure returns the same id and changes nothing.
        """
        with self.db.session() as s:
            return self.upsert(s, [(structure, source, source_id)])[0]

    def id_of(self, content_hash: str) -> int | None:
        """The id of the material with this content hash, if stored."""
        with self.db.session() as s:
            return s.scalar(select(Material.id).where(Material.content_hash == content_hash))

    def get(self, material_id: int) -> MaterialRecord | None:
        """A material with every order, model score and DFT job (None if unknown)."""
        with self.db.session() as s:
            m = s.get(Material, material_id)
            if m is None:
                return None
            return MaterialRecord(
                id=m.id,
                content_hash=m.content_hash,
                formula=m.formula,
                elements=sorted(e.element for e in m.elements),
                n_sites=m.n_sites,
                source=m.source,
                source_id=m.source_id,
                structure=m.structure,
                created_at=as_utc(m.created_at),  # type: ignore[arg-type]
                orders=[order_record(o) for o in m.orders],
                scores=[score_record(sc) for sc in m.scores],
                dft_jobs=[dft_record(j) for j in m.dft_jobs],
            )

    def upsert(
        self,
        s: Session,
        entries: Sequence[MaterialRow],
        space_groups: Sequence[int | None] | None = None,
    ) -> list[int]:
        """Insert (structure, source, source_id) once per content hash in the caller's
        transaction; returns the material ids in input order.

        ``space_groups`` (the analysed crystal's space group number per entry, from its
        stored result) set the material's prototype key
        (:func:`~altermag.prototypes.prototype_key`); a material stored before without one
        gets it now.
        """
        groups = list(space_groups) if space_groups is not None else [None] * len(entries)
        hashes = [structure.content_hash() for structure, _, _ in entries]
        rows: dict[str, dict[str, Any]] = {}
        elements: dict[str, list[str]] = {}
        now = utcnow()
        for h, (structure, source, source_id), sg in zip(hashes, entries, groups, strict=True):
            if h in rows:
                if not rows[h]["prototype"]:
                    rows[h]["prototype"] = prototype_key(structure.species, sg)
                continue  # the first sighting in a chunk wins, as across chunks
            elements[h] = sorted({normalise_element(e) for e in structure.species})
            rows[h] = {
                "content_hash": h,
                "formula": structure.formula,
                "n_sites": len(structure),
                "source": source,
                "source_id": source_id,
                "structure": encode_json(structure.to_dict()),
                "created_at": now,
                "element_list": " ".join(elements[h]),
                "nelements": len(elements[h]),
                "prototype": prototype_key(structure.species, sg),
            }
            rows[h]["formula_reduced"], rows[h]["formula_anonymous"] = optimade_formulas(
                structure.species
            )
        if not rows:
            return []
        # sorted keys: concurrent writers lock rows in one order, no deadlock
        self._insert(s, [rows[h] for h in sorted(rows)])
        ids: dict[str, int] = {}
        for batch in batches(list(rows)):
            query = select(Material.content_hash, Material.id).where(
                Material.content_hash.in_(batch)
            )
            ids.update({h: int(mid) for h, mid in s.execute(query)})
        keyed = [{"mid": ids[h], "proto": rows[h]["prototype"]} for h in sorted(rows)]
        if keyed := [k for k in keyed if k["proto"]]:
            # materials first stored without an analysis (no space group) get their key now
            table = cast(Table, Material.__table__)
            s.connection().execute(
                update(table)
                .where(table.c.id == bindparam("mid"), table.c.prototype == "")
                .values(prototype=bindparam("proto")),
                keyed,
            )
        self._insert_elements(
            s, [{"material_id": ids[h], "element": e} for h in sorted(rows) for e in elements[h]]
        )
        return [ids[h] for h in hashes]

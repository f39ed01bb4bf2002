"""The store's candidates as an OPTIMADE ``structures`` collection.

One OPTIMADE structure per stored magnetic order (a candidate): the material's crystal
(lattice, sites, formulas) with the order and its classification in ``_altermag_`` provider
fields — verdict, wave, spin Laue group, form factor, model probabilities, the latest DFT
check and ground-state search, the moments. The entry id is the order id. Filters become one
SQL query (:mod:`altermag_api.optimade.filters`); the collection plugs into the ``optimade``
package's server as its ``EntryCollection`` for ``structures``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from optimade.exceptions import BadRequest
from optimade.models import StructureResource
from optimade.server.config import ServerConfig
from optimade.server.entry_collections import EntryCollection
from optimade.server.mappers import StructureMapper
from sqlalchemy import String, cast, func, select

from altermag.formulas import normalise_formula, optimade_reduced
from altermag.store import Store
from altermag.store.models import MagneticOrder, Material
from altermag.store.records import as_utc
from altermag.structure import MagneticStructure
from altermag_api.optimade.filters import (
    ConstantField,
    ElementsField,
    Field,
    ScalarField,
    SqlTransformer,
)

__all__ = ["PROVIDER_FIELDS", "StoreStructures"]

#: Provider fields (``_altermag_<name>``) as ``/info/structures`` describes them.
PROVIDER_FIELDS: list[dict[str, Any]] = [
    {
        "name": "verdict",
        "type": "string",
        "description": "Spin-group verdict of this magnetic order: altermagnet, "
        "antiferromagnet, ferromagnet, ferrimagnet, compensated_ferrimagnet, nonmagnetic, "
        "noncollinear.",
    },
    {
        "name": "wave",
        "type": "string",
        "description": "Altermagnetic spin-splitting symmetry: d, g or i (s for ferro- and "
        "ferrimagnets; null for conventional antiferromagnets).",
    },
    {
        "name": "spin_laue_group",
        "type": "string",
        "description": "Spin Laue group, e.g. ²4/¹m²m¹m (superscript 2: spin-flipping).",
    },
    {
        "name": "form_factor",
        "type": "string",
        "description": "Lowest-order spin-splitting form factor f(k), e.g. kx*ky, in the "
        "standard Cartesian frame of the crystal.",
    },
    {
        "name": "probability",
        "type": "float",
        "description": "The ground-state prior's P(altermagnetic ground state) of the crystal "
        "(latest model version); a ranking prior, not the verdict.",
    },
    {"name": "model_version", "type": "string", "description": "Model of the probabilities."},
    {
        "name": "dft_status",
        "type": "string",
        "description": "Latest first-principles check of this order: confirmed, contradicted "
        "or inconclusive; null when not checked.",
    },
    {
        "name": "dft_splitting_ev",
        "type": "float",
        "unit": "eV",
        "description": "Largest spin splitting found by that check.",
    },
    {
        "name": "dft_ground_state",
        "type": "string",
        "description": "The material's latest DFT ground-state search (spin-polarised total "
        "energies of its enumerated orders): the verdict of the lowest-energy order "
        "(altermagnet, antiferromagnet, ferromagnet..., ' (near-degenerate)' appended when "
        "another order lies within the energy tolerance) or inconclusive; null when no "
        "search was run. The same on every order of the material.",
    },
    {
        "name": "dft_am_margin_mev",
        "type": "float",
        "unit": "meV",
        "description": "Energy per magnetic atom from that search: > 0 how far the next order "
        "lies above an altermagnetic ground state, < 0 how far the best altermagnetic order "
        "lies above the ground state; null without an altermagnetic order or a search.",
    },
    {"name": "material_id", "type": "integer", "description": "altermag material id."},
    {
        "name": "order_rank",
        "type": "integer",
        "description": "Rank of an enumerated order by plausibility (1 = most plausible); "
        "null for an order given with the structure.",
    },
    {
        "name": "order_score",
        "type": "float",
        "description": "Heuristic plausibility score of an enumerated order, 0 to 1.",
    },
    {
        "name": "enumerated",
        "type": "boolean",
        "description": "True when the order was enumerated (the source gave no moments).",
    },
    {
        "name": "magnetic_moments",
        "type": "list",
        "unit": "μB",
        "description": "Collinear moment of every site, in site order; enumerated orders "
        "give the relative signs (±1); null when they cannot be put on the given cell.",
        "sortable": False,
    },
    {
        "name": "magnetic_space_group",
        "type": "string",
        "description": "Magnetic space group (BNS symbol and number) for moments along "
        "their common axis.",
        "sortable": False,
    },
    {
        "name": "space_group",
        "type": "string",
        "description": "Space group of the crystal (Hermann–Mauguin symbol and number).",
        "sortable": False,
    },
    {"name": "source", "type": "string", "description": "Source of the first sighting."},
    {"name": "source_id", "type": "string", "description": "Identifier in that source."},
    {
        "name": "report",
        "type": "string",
        "description": "Path of this order's classification report on this server.",
        "sortable": False,
    },
]


def searchable_fields(prefix: str) -> dict[str, Field]:
    """Every property a filter can search, by OPTIMADE name."""
    p = f"_{prefix}_"
    fields: list[Field] = [
        ScalarField("id", cast(MagneticOrder.id, String)),
        ScalarField("last_modified", MagneticOrder.created_at, "timestamp"),
        ElementsField("elements", Material.nelements),
        ScalarField("nelements", Material.nelements, "integer"),
        ScalarField("nsites", Material.n_sites, "integer"),
        ScalarField("chemical_formula_descriptive", Material.formula, normalise=normalise_formula),
        ScalarField(
            "chemical_formula_reduced", Material.formula_reduced, normalise=optimade_reduced
        ),
        ScalarField("chemical_formula_anonymous", Material.formula_anonymous),
        ConstantField("nperiodic_dimensions", 3),
        ConstantField("dimension_types", [1, 1, 1]),
        ConstantField("structure_features", []),
        ScalarField(p + "verdict", MagneticOrder.verdict),
        ScalarField(p + "wave", MagneticOrder.wave),
        ScalarField(p + "spin_laue_group", MagneticOrder.spin_laue_group),
        ScalarField(p + "form_factor", MagneticOrder.form_factor),
        ScalarField(p + "probability", MagneticOrder.score, "float"),
        ScalarField(p + "model_version", MagneticOrder.model_version),
        ScalarField(p + "dft_status", MagneticOrder.dft_status),
        ScalarField(p + "dft_splitting_ev", MagneticOrder.dft_splitting_ev, "float"),
        ScalarField(p + "dft_ground_state", MagneticOrder.dft_ground_state),
        ScalarField(p + "dft_am_margin_mev", MagneticOrder.dft_am_margin_mev, "float"),
        ScalarField(p + "material_id", MagneticOrder.material_id, "integer"),
        ScalarField(p + "order_rank", MagneticOrder.heuristic_rank, "integer"),
        ScalarField(p + "order_score", MagneticOrder.heuristic_score, "float"),
        ScalarField(p + "enumerated", MagneticOrder.enumerated, "boolean"),
        ScalarField(p + "source", Material.source),
        ScalarField(p + "source_id", Material.source_id),
    ]
    return {f.name: f for f in fields}


_COLUMNS = (
    MagneticOrder.id,
    MagneticOrder.material_id,
    MagneticOrder.created_at,
    MagneticOrder.verdict,
    MagneticOrder.wave,
    MagneticOrder.spin_laue_group,
    MagneticOrder.form_factor,
    MagneticOrder.score,
    MagneticOrder.model_version,
    MagneticOrder.dft_status,
    MagneticOrder.dft_splitting_ev,
    MagneticOrder.dft_ground_state,
    MagneticOrder.dft_am_margin_mev,
    MagneticOrder.heuristic_rank,
    MagneticOrder.heuristic_score,
    MagneticOrder.enumerated,
    MagneticOrder.moments,
    MagneticOrder.settings,
    MagneticOrder.result,
    Material.formula,
    Material.formula_reduced,
    Material.formula_anonymous,
    Material.nelements,
    Material.element_list,
    Material.n_sites,
    Material.structure,
    Material.source,
    Material.source_id,
)


def _condition(value: Any) -> Any:
    """The SQL condition of a filter; no filter arrives as ``{}`` (the base class's empty
    MongoDB query)."""
    return None if value is None or isinstance(value, dict) else value


class StoreStructures(EntryCollection):
    """Read-only OPTIMADE ``structures`` collection over the store's magnetic orders."""

    def __init__(self, store: Store, config: ServerConfig, report_path: str) -> None:
        mapper = StructureMapper(config)
        self.fields = searchable_fields(config.provider.prefix)
        super().__init__(
            StructureResource, mapper, SqlTransformer(mapper, self.fields, store.dialect), config
        )
        self.store = store
        self.report_path = report_path
        self._moments: OrderedDict[int, list[float] | None] = OrderedDict()

    # -------------------------------------------------------------- EntryCollection
    def __len__(self) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(MagneticOrder)) or 0)

    def insert(self, data: list[Any]) -> None:
        raise NotImplementedError("the OPTIMADE endpoint is read-only; screenings fill the store")

    def count(self, **kwargs: Any) -> int | None:
        stmt = select(func.count()).select_from(MagneticOrder).join(Material)
        if _condition(kwargs.get("filter")) is not None:
            stmt = stmt.where(kwargs["filter"])
        with self.store.session() as s:
            return int(s.scalar(stmt) or 0)

    def handle_query_params(self, params: Any) -> dict[str, Any]:
        criteria = super().handle_query_params(params)
        if "page_above" in criteria:
            raise NotImplementedError("page_above is not supported; use page_offset")
        return criteria

    def _order_by(self, sort: list[tuple[str, int]] | None) -> list[Any]:
        out = []
        for backend_field, direction in sort or []:
            name = self.resource_mapper.get_optimade_field(backend_field)
            field = self.fields.get(name)
            if not isinstance(field, ScalarField):
                raise BadRequest(detail=f"sorting on {name!r} is not supported")
            col = field._column(self.store.dialect)
            out.append(col.desc() if direction < 0 else col.asc())
        return [*out, MagneticOrder.id.asc()]

    def _run_db_query(
        self, criteria: dict[str, Any], single_entry: bool = False
    ) -> tuple[list[dict[str, Any]], int | None, bool]:
        condition = _condition(criteria.get("filter"))
        skip = int(criteria.get("skip") or 0)
        limit = int(criteria.get("limit") or self.config.page_limit)
        stmt = select(*_COLUMNS).join(Material, Material.id == MagneticOrder.material_id)
        if condition is not None:
            stmt = stmt.where(condition)
        stmt = stmt.order_by(*self._order_by(criteria.get("sort"))).offset(skip).limit(limit)
        with self.store.session() as s:
            rows = s.execute(stmt).all()
        docs = [self._document(r) for r in rows]
        if single_entry:
            return docs, len(docs), False
        returned = self.count(filter=condition)
        return docs, returned, skip + len(docs) < (returned or 0)

    # -------------------------------------------------------------- documents
    def _document(self, r: Any) -> dict[str, Any]:
        """The backend document of one order (provider fields under their plain names)."""
        structure = MagneticStructure.from_dict(r.structure)
        species = list(structure.species)
        elements = r.element_list.split()
        counts = [species.count(el) for el in elements]
        result = r.result or {}
        sg = result.get("space_group_symbol")
        msg = result.get("magnetic_space_group")
        return {
            "id": str(r.id),
            "type": "structures",
            "last_modified": as_utc(r.created_at),  # SQLite gives it back naive
            "elements": elements,
            "nelements": r.nelements,
            "elements_ratios": [c / len(species) for c in counts],
            "chemical_formula_descriptive": r.formula,
            "chemical_formula_reduced": r.formula_reduced,
            "chemical_formula_anonymous": r.formula_anonymous,
            "dimension_types": [1, 1, 1],
            "nperiodic_dimensions": 3,
            "lattice_vectors": structure.lattice.tolist(),
            "cartesian_site_positions": structure.cart_coords.tolist(),
            "nsites": len(species),
            "species_at_sites": species,
            "species": [
                {"name": el, "chemical_symbols": [el], "concentration": [1.0]} for el in elements
            ],
            "structure_features": [],
            "verdict": r.verdict,
            "wave": r.wave,
            "spin_laue_group": r.spin_laue_group,
            "form_factor": r.form_factor,
            "probability": r.score,
            "model_version": r.model_version,
            "dft_status": r.dft_status,
            "dft_splitting_ev": r.dft_splitting_ev,
            "dft_ground_state": r.dft_ground_state,
            "dft_am_margin_mev": r.dft_am_margin_mev,
            "material_id": r.material_id,
            "order_rank": r.heuristic_rank,
            "order_score": r.heuristic_score,
            "enumerated": bool(r.enumerated),
            "magnetic_moments": self._site_moments(r, structure),
            "magnetic_space_group": (
                f"{msg} ({result.get('magnetic_space_group_number')})" if msg else None
            ),
            "space_group": f"{sg} ({result.get('space_group_number')})" if sg else None,
            "source": r.source,
            "source_id": r.source_id,
            "report": f"{self.report_path}/{r.material_id}?order_id={r.id}",
        }

    def _site_moments(self, r: Any, structure: MagneticStructure) -> list[float] | None:
        """The order's moments on the stored cell (enumerated orders live on the primitive
        cell: carried over once, then remembered)."""
        if r.moments is None:
            return None
        if len(r.moments) == len(structure):
            return [float(m) for m in r.moments]
        if r.id in self._moments:
            self._moments.move_to_end(r.id)
            return self._moments[r.id]
        from altermag.symmetry.order_cell import signs_on_structure

        symprec = float((r.settings or {}).get("symprec", 0.1))
        signs = signs_on_structure(structure, r.moments, symprec=symprec)
        value = None if signs is None else [float(x) for x in signs]
        self._moments[r.id] = value
        if len(self._moments) > 4096:
            self._moments.popitem(last=False)
        return value

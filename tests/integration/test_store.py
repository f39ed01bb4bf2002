"""The screening store on SQLite and PostgreSQL: round trips, idempotency, candidate filters,
sorting and cursor pagination, runs with failed inputs, foreign keys, DFT rows, API keys and
the Alembic migrations.

Every test runs on both databases. SQLite gets a fresh file per test; PostgreSQL a fresh
database per test session (dropped at the end) and a fresh schema per test, so reruns are
clean. The PostgreSQL cases are marked ``postgres`` and skip when the server at
127.0.0.1:5432 is down (``scripts/ensure-postgres.sh`` starts it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, inspect, text
from sqlalchemy.exc import IntegrityError

import altermag
from altermag.errors import SettingsError, StoreError
from altermag.io import StructureReadError, read_structure
from altermag.result import SpinGroupResult
from altermag.store import (
    MAX_PAGE_SIZE,
    AnalysisItem,
    CandidateQuery,
    Store,
    create_schema,
    current_revision,
    database_url,
    downgrade,
    head,
    make_engine,
    upgrade,
)
from altermag.store.models import Base, Material
from altermag.structure import MagneticStructure
from tests.conftest import _postgres_reachable
from tests.requirements import requires

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"

EXAMPLE_FILES = {
    "Cr2O3": EXAMPLES / "Cr2O3.cif",
    "CrSb": EXAMPLES / "CrSb.extxyz",
    "Fe2O3": EXAMPLES / "Fe2O3.mcif",
    "MnF2": EXAMPLES / "MnF2.mcif",
    "MnTe": EXAMPLES / "MnTe.json",
    "NiO": EXAMPLES / "NiO" / "POSCAR",
}


# ---------------------------------------------------------------------- databases
@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        yield s


# ---------------------------------------------------------------------- real analyses
@pytest.fixture(scope="module")
def analysed() -> dict[str, tuple[MagneticStructure, SpinGroupResult]]:
    """The bundled examples that carry moments, analysed by the spin-group engine."""
    out = {}
    for name, path in EXAMPLE_FILES.items():
        s = read_structure(path)
        if s.has_moments:  # Cr2O3.cif has none: it is among the enumerated ones
            out[name] = (s, altermag.analyze(s))
    return out


@pytest.fixture(scope="module")
def enumerated() -> dict[str, tuple[MagneticStructure, SpinGroupResult]]:
    """The same crystals without moments: every collinear k = 0 order, ranked."""
    out = {}
    for name, path in EXAMPLE_FILES.items():
        s = read_structure(path).with_moments(None)
        out[name] = (s, altermag.analyze(s))
    return out


def _scaled(s: MagneticStructure, factor: float) -> MagneticStructure:
    """The same crystal uniformly expanded: another material with the same spin group."""
    return MagneticStructure(s.lattice * factor, s.species, s.frac_coords, s.magmoms, s.label)


def _fill(store: Store, analysed: dict, enumerated: dict) -> dict[str, int]:
    """Store 11 examples + 15 expanded copies (35 orders) with seeded scores, ties included."""
    items = []
    for name, (s, r) in analysed.items():
        items.append(AnalysisItem(s, r, f"{name}-mag", "examples", name))
        for i in (1, 2, 3):  # expanded copies, seen by a "corpus" source
            items.append(AnalysisItem(_scaled(s, 1 + 0.01 * i), r, f"{name}-x{i}", "corpus"))
    for name, (s, r) in enumerated.items():
        items.append(AnalysisItem(s, r, f"{name}-bare", "examples", f"{name}-bare"))
    run_id = store.start_run("examples")
    stored = store.add_analyses(items, run_id=run_id)
    rng = np.random.default_rng(7)
    for k, st in enumerate(stored):
        if k % 5 == 4:
            continue  # some materials stay unscored
        score = round(float(rng.uniform()), 1)  # one decimal: many ties
        # P(k = 0) bounds P(altermagnetic ground state) from above
        store.add_score(st.material_id, "prior-v1", score, round(min(1.0, score + 0.2), 2))
    return {"run_id": run_id, "n_orders": sum(len(st.order_ids) for st in stored)}


# ---------------------------------------------------------------------- round trip
def test_round_trip_material_result_and_score(store: Store, analysed: dict) -> None:
    s, r = analysed["MnF2"]
    stored = store.add_analysis(s, r, source="examples", source_id="MnF2.mcif")
    score_id = store.add_score(stored.material_id, "prior-v1", 0.88, 0.93)

    m = store.material(stored.material_id)
    assert m is not None
    assert (m.formula, m.elements, m.n_sites) == ("MnF2", ["F", "Mn"], 6)
    assert (m.source, m.source_id) == ("examples", "MnF2.mcif")
    assert m.content_hash == s.content_hash()
    back = m.magnetic_structure()
    np.testing.assert_allclose(back.lattice, s.lattice)
    np.testing.assert_allclose(back.magmoms, s.magmoms)
    assert back.content_hash() == s.content_hash()

    (order,) = m.orders
    assert order.id == stored.order_ids[0]
    assert (order.verdict, order.wave, order.form_factor) == ("altermagnet", "d", "kx*ky")
    assert order.spin_laue_group == "²4/¹m²m¹m"
    assert len(order.nodal_planes) == 2
    assert order.spin_group_result().to_dict() == r.to_dict()
    assert order.moments == pytest.approx([4.6, -4.6, 0, 0, 0, 0], abs=0.01)
    assert order.heuristic_rank is None and not order.enumerated

    (score,) = m.scores
    assert (score.id, score.model_version, score.score, score.p_k0) == (
        score_id,
        "prior-v1",
        0.88,
        0.93,
    )
    assert m.created_at.tzinfo is not None
    assert m.to_dict()["orders"][0]["verdict"] == "altermagnet"  # JSON-ready


def test_enumerated_orders_keep_the_heuristic(store: Store, enumerated: dict) -> None:
    s, r = enumerated["Fe2O3"]
    stored = store.add_analysis(s, r)
    m = store.material(stored.material_id)
    assert m is not None
    assert [o.heuristic_rank for o in m.orders] == [o.rank for o in r.orders]
    assert all(o.enumerated for o in m.orders)
    alter = [o for o in m.orders if o.verdict == "altermagnet"]
    assert [o.wave for o in alter] == ["g"]
    assert alter[0].heuristic_reason == r.orders[alter[0].heuristic_rank - 1].reason
    assert set(map(abs, alter[0].moments)) <= {0.0, 1.0}


# ---------------------------------------------------------------------- idempotency
def test_storing_twice_adds_nothing(store: Store, analysed: dict, enumerated: dict) -> None:
    first = _fill(store, analysed, enumerated)
    counts = store.row_counts()
    assert counts["materials"] == 5 + 15 + 6
    assert counts["magnetic_orders"] == first["n_orders"] == 5 + 15 + 15
    _fill(store, analysed, enumerated)  # same analyses, same scores
    again = store.row_counts()
    assert again == {**counts, "screening_runs": 2, "run_items": 2 * counts["run_items"]}

    # Other settings are another analysis: new order rows, same material.
    s, r = analysed["MnTe"]
    mid = store.add_material(s)
    store.add_result(mid, r, settings={"symprec": 0.01, "magtol": 0.15})
    assert store.row_counts()["magnetic_orders"] == counts["magnetic_orders"] + 1
    assert store.row_counts()["materials"] == counts["materials"]


def test_first_sighting_keeps_its_source(store: Store, analysed: dict) -> None:
    s, _ = analysed["CrSb"]
    a = store.add_material(s, "optimade:mp", "mp-1234")
    b = store.add_material(s, "local", "CrSb.extxyz")
    assert a == b == store.material_id(s.content_hash())
    m = store.material(a)
    assert m is not None and (m.source, m.source_id) == ("optimade:mp", "mp-1234")


def test_rescoring_replaces_the_score(store: Store, analysed: dict) -> None:
    s, r = analysed["MnTe"]
    mid = store.add_analysis(s, r).material_id
    store.add_score(mid, "prior-v1", 0.2)
    store.add_score(mid, "prior-v1", 0.6, 0.7)
    store.add_score(mid, "prior-v2", 0.4)
    m = store.material(mid)
    assert m is not None
    assert {(x.model_version, x.score, x.p_k0) for x in m.scores} == {
        ("prior-v1", 0.6, 0.7),
        ("prior-v2", 0.4, None),
    }
    assert store.latest_model_version() == "prior-v2"
    other = store.add_material(analysed["CrSb"][0])
    store.add_scores([(mid, "prior-v3", 0.1, 0.2), (other, "prior-v3", 0.3, None)])
    store.add_scores([(mid, "prior-v3", 0.5, 0.6)])  # batch re-score: replaced (both numbers)
    assert store.row_counts()["model_scores"] == 4
    page = store.candidates(sort="score", model_version="prior-v3")  # CrSb: no order stored
    assert [(c.formula, c.score, c.p_k0) for c in page.items] == [("MnTe", 0.5, 0.6)]
    page = store.candidates(sort="score", model_version="prior-v1")
    assert [(c.score, c.p_k0, c.model_version) for c in page.items] == [(0.6, 0.7, "prior-v1")]
    # The default table follows the most recently stored version, wherever it was written,
    # score and P(k = 0) together.
    assert [(c.score, c.p_k0, c.model_version) for c in store.candidates().items] == [
        (0.5, 0.6, "prior-v3")
    ]
    store.add_score(mid, "prior-v1", 0.9)  # an older model re-scores: it is the latest again
    assert [(c.score, c.p_k0) for c in store.candidates().items] == [(0.9, None)]
    store.add_scores([(mid, "prior-v1", 0.9, 0.25)])
    assert [(c.score, c.p_k0) for c in store.candidates().items] == [(0.9, 0.25)]
    fresh = store.add_material(analysed["MnF2"][0])
    store.add_score(fresh, "prior-v4", 0.8, 0.75)  # a new version scores another material only
    assert [(c.formula, c.score, c.p_k0) for c in store.candidates().items] == [
        ("MnTe", None, None)
    ]
    # orders stored after the score get it, and sort by it
    store.add_analysis(*analysed["MnF2"])
    assert [(c.formula, c.score, c.p_k0, c.model_version) for c in store.candidates().items] == [
        ("MnF2", 0.8, 0.75, "prior-v4"),
        ("MnTe", None, None, None),
    ]


def test_candidates_sort_by_dft_splitting(store: Store, analysed: dict, enumerated: dict) -> None:
    """A completed DFT check lands on the order it computed, found by its moments' signs."""
    mnte = store.add_analysis(*analysed["MnTe"])
    bare = store.add_analysis(*enumerated["CrSb"])  # several enumerated orders
    orders = [o for o in store.material(bare.material_id).orders]  # type: ignore[union-attr]
    target = next(o for o in orders if o.verdict == "altermagnet")
    job = store.add_dft_job(
        bare.material_id,
        "qe",
        parameters={"moments": [-4.0 * m if m else 0.0 for m in target.moments]},  # flipped
    )
    store.set_dft_result(job, {"status": "confirmed", "reason": "split"}, 0.62)
    control = store.add_dft_job(mnte.material_id, "qe", order_id=mnte.order_ids[0])
    store.set_dft_result(control, {"status": "contradicted", "reason": "no"}, 0.004)
    failed = store.add_dft_job(mnte.material_id, "qe", order_id=mnte.order_ids[0])
    store.set_dft_result(failed, {"error": "pw.x crashed"}, None, status="failed")
    rows = store.candidates(sort="dft_splitting").items
    assert [(c.order_id, c.dft_status, c.dft_splitting_ev) for c in rows[:2]] == [
        (target.id, "confirmed", 0.62),
        (mnte.order_ids[0], "contradicted", 0.004),
    ]
    assert all(c.dft_status is None for c in rows[2:]) and len(rows) == 1 + len(orders)


def test_migration_fills_the_candidate_columns(db_url: str, analysed: dict) -> None:
    """Upgrading a 0001 store copies the latest scores and DFT checks onto the orders."""
    with Store(db_url) as store:
        s, r = analysed["MnTe"]
        stored = store.add_analysis(s, r)
        store.add_score(stored.material_id, "prior-v1", 0.2, 0.3)
        store.add_score(stored.material_id, "prior-v2", 0.6, 0.7)
        job = store.add_dft_job(stored.material_id, "qe", order_id=stored.order_ids[0])
        store.set_dft_result(job, {"status": "confirmed"}, 0.5)
    downgrade(db_url, "0001")
    upgrade(db_url)
    with Store(db_url) as store:
        (c,) = store.candidates(sort="dft_splitting").items
        assert (c.model_version, c.score) == ("prior-v2", 0.6)  # P(k = 0): dropped by 0001
        assert (c.dft_status, c.dft_splitting_ev) == ("confirmed", 0.5)


def _scores_shown(store: Store) -> dict[int, tuple[float | None, float | None]]:
    """(score, P(k = 0)) of every candidate row of the default table, by order id."""
    return {
        c.order_id: (c.score, c.p_k0) for c in store.iter_candidates(CandidateQuery(max_rank=None))
    }


def test_candidate_rows_carry_the_scores_p_k0(
    db_url: str, analysed: dict, enumerated: dict
) -> None:
    """P(k = 0) on every candidate row is the one stored with the score it shows (the latest
    model version's row of its material), and migration 0011 fills it on existing stores."""
    with Store(db_url) as store:
        _fill(store, analysed, enumerated)
        store.add_scores(  # a batch re-score of some materials by the same version
            (c.material_id, "prior-v1", 0.3, 0.4) for c in store.candidates(limit=500).items[::4]
        )
        version = store.latest_model_version()
        assert version == "prior-v1"

        shown = _scores_shown(store)
        joined = {  # the same rows with the scores of the latest version joined in
            c.order_id: (c.score, c.p_k0)
            for c in store.iter_candidates(CandidateQuery(max_rank=None, model_version=version))
        }
    given = {k for k, (score, _) in shown.items() if score is not None and joined[k][0] is None}
    assert joined.keys() == shown.keys()
    assert {k: v for k, v in shown.items() if k not in given} == {
        k: v for k, v in joined.items() if k not in given
    }
    assert {shown[k][1] for k in given} == {None}  # orders given with the structure
    assert {k0 for _, k0 in shown.values()} >= {0.4, None} and len(shown) > 20
    downgrade(db_url, "0010")
    upgrade(db_url)
    with Store(db_url) as store:
        assert _scores_shown(store) == shown


def _identities_shown(store: Store) -> dict[int, tuple[Any, ...]]:
    """(material, formula, elements, content hash, source, source id) of every candidate row
    of the table, by order id."""
    return {
        c.order_id: (c.material_id, c.formula, c.elements, c.content_hash, c.source, c.source_id)
        for c in store.iter_candidates(CandidateQuery(max_rank=None))
    }


def test_candidate_rows_show_their_materials_identity(
    db_url: str, analysed: dict, enumerated: dict
) -> None:
    """Every candidate row shows its material's formula, elements, content hash and first
    sighting (source, source id), also an order stored later from another source, under
    every sort and filter; migration 0012 fills the rows of an existing store."""
    with Store(db_url) as store:
        _fill(store, analysed, enumerated)
        s, r = analysed["MnF2"]
        again = store.add_analysis(  # seen again elsewhere, analysed with other settings
            s, r, source="elsewhere", source_id="x", settings={"symprec": 0.02, "magtol": 0.2}
        )
        shown = _identities_shown(store)
        materials = {mid: store.material(mid) for mid, *_ in shown.values()}
        assert shown == {
            oid: (m.id, m.formula, m.elements, m.content_hash, m.source, m.source_id)
            for oid, (mid, *_) in shown.items()
            if (m := materials[mid]) is not None
        }
        assert len(shown) > 20 and {oid for oid in again.order_ids} <= shown.keys()
        assert {shown[oid][4:] for oid in again.order_ids} == {("examples", "MnF2")}
        for sort in ("formula", "newest"):  # the formula order still joins the materials
            page = store.candidates(sort=sort, max_rank=None, source="corpus", limit=500)
            assert page.items and all(c.source == "corpus" for c in page.items)
            assert {c.order_id: shown[c.order_id] for c in page.items} == {
                c.order_id: (c.material_id, c.formula, c.elements, c.content_hash, c.source,
                             c.source_id)
                for c in page.items
            }  # fmt: skip
    downgrade(db_url, "0011")
    upgrade(db_url)
    with Store(db_url) as store:
        assert _identities_shown(store) == shown


def test_screened_orders_carry_the_scores_of_their_chunk(store: Store, enumerated: dict) -> None:
    """Every order row of a screened chunk shows its material's score and P(k = 0) of the
    latest model version, whether the row is new, stored before by another chunk, re-scored by
    the same version or by a newer one, or by an older one again (then every material that
    version scored shows that score, also those the last chunk did not hold)."""
    from altermag.screening import ScreenedEntry

    crystals = list(enumerated.items())

    def chunk(names: slice, version: str, k: int) -> list[ScreenedEntry]:
        return [
            ScreenedEntry(
                name, "examples", s, r, model_score=0.1 * k + 0.01 * i,
                model_version=version, p_k0=0.5 + 0.01 * i + 0.1 * k,
            )
            for i, (name, (s, r)) in enumerate(crystals[names])
        ]  # fmt: skip

    half = len(crystals) // 2
    by_version: dict[str, dict[int, ScreenedEntry]] = {}  # each version's latest per order
    for names, version, k in (
        (slice(0, half), "prior-v1", 1),  # new rows
        (slice(half - 1, None), "prior-v1", 2),  # one material stored before, the rest new
        (slice(None), "prior-v1", 3),  # the same version re-scores everything
        (slice(0, half), "prior-v2", 4),  # a newer model scores half of them
        (slice(half // 2, half), "prior-v1", 5),  # the older model re-scores a quarter
    ):
        entries = chunk(names, version, k)
        stored = store.add_screened(entries, {"symprec": 0.01, "magtol": 0.05})
        for e, place in zip(entries, stored, strict=True):
            assert place is not None
            by_version.setdefault(version, {}).update({oid: e for oid in place.order_ids})
        # the latest version's scores replace every row's (materials it never scored: none)
        seen = by_version[version]
        shown = {
            c.order_id: (c.model_version, c.score, c.p_k0)
            for c in store.iter_candidates(CandidateQuery(max_rank=None))
        }
        assert store.latest_model_version() == version
        assert {oid: (e.model_version, e.model_score, e.p_k0) for oid, e in seen.items()} == {
            oid: v for oid, v in shown.items() if v[0] is not None
        }
        assert len(seen) >= 10  # rows of 2-5 crystals (every enumerated order)


def _prototypes(db_url: str) -> dict[int, str]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, prototype FROM materials")).all())
    engine.dispose()
    return {int(k): str(v) for k, v in rows.items()}


def test_materials_carry_their_prototype_key(db_url: str, analysed: dict) -> None:
    """A stored analysis sets the material's prototype key (anonymous formula, space group of
    the crystal): rutile MnF2 is ``A2B 136``; a structure stored bare gets it with its first
    analysis, and migration 0010 fills it from the stored results."""
    from altermag.prototypes import prototype_key

    mnf2, res = analysed["MnF2"]
    mnte, res_te = analysed["MnTe"]
    with Store(db_url) as store:
        mid = store.add_analysis(mnf2, res).material_id
        bare = store.add_material(mnte)
        assert _prototypes(db_url) == {mid: "A2B 136", bare: ""}
        assert store.add_analysis(mnte, res_te).material_id == bare
    keys = {mid: "A2B 136", bare: prototype_key(mnte.species, res_te.space_group_number)}
    assert keys[bare] == "AB 194"  # NiAs-type MnTe, P6_3/mmc
    assert _prototypes(db_url) == keys
    downgrade(db_url, "0009")
    upgrade(db_url)
    assert _prototypes(db_url) == keys


# ---------------------------------------------------------------------- candidates
def test_candidate_filters(store: Store, analysed: dict, enumerated: dict) -> None:
    filled = _fill(store, analysed, enumerated)
    everything = list(store.iter_candidates())
    assert len(everything) == filled["n_orders"]

    alter = list(store.iter_candidates(verdict="altermagnet"))
    assert alter and all(c.verdict == "altermagnet" and c.wave in "dgi" for c in alter)
    assert {c.formula for c in alter} == {"MnF2", "MnTe", "CrSb", "Fe2O3", "Cr2O3"}
    g = list(store.iter_candidates(verdict="altermagnet", wave="g"))
    assert {c.formula for c in g} == {"MnTe", "CrSb", "Fe2O3", "Cr2O3"}
    dg = list(store.iter_candidates(wave=["d", "g"]))
    assert len(dg) == len(alter)
    afm = list(store.iter_candidates(verdict=["antiferromagnet"]))
    assert {c.formula for c in afm} == {"NiO", "Cr2O3", "Fe2O3"}

    mn = list(store.iter_candidates(elements=["mn"]))
    assert {c.formula for c in mn} == {"MnF2", "MnTe"}
    mnf = list(store.iter_candidates(elements=["Mn", "F"]))
    assert {c.formula for c in mnf} == {"MnF2"}
    assert list(store.iter_candidates(elements=["Mn", "O"])) == []
    # whole symbols only: F is not the start of Fe, S not the start of Sb
    assert {c.formula for c in store.iter_candidates(elements=["F"])} == {"MnF2"}
    assert list(store.iter_candidates(elements=["S"])) == []

    corpus = list(store.iter_candidates(source="corpus"))
    assert len(corpus) == 15 and all(c.source == "corpus" for c in corpus)
    assert len(list(store.iter_candidates(run_id=filled["run_id"]))) == filled["n_orders"]
    other_run = store.start_run("elsewhere")
    s, r = analysed["MnF2"]
    store.add_analysis(s, r, run_id=other_run, input_ref="MnF2.mcif")
    in_other = list(store.iter_candidates(run_id=other_run))
    assert [c.formula for c in in_other] == ["MnF2"]

    scored = list(store.iter_candidates(min_score=0.5))
    assert scored and all(c.score is not None and c.score >= 0.5 for c in scored)
    unscored = [c for c in everything if c.score is None]
    assert unscored and len(scored) < len(everything) - len(unscored)

    best = list(store.iter_candidates(max_rank=1))
    assert all(c.heuristic_rank in (None, 1) for c in best)
    assert len(best) == 20 + 6  # given-moment orders + one per bare material
    q = CandidateQuery(verdict="altermagnet", elements=["Cr"], max_rank=1)
    assert {c.formula for c in store.iter_candidates(q)} == {"CrSb"}  # Cr2O3: rank 2

    # the materials of the candidates, from one query of ids: the same materials
    for filters in (
        {"verdict": "altermagnet"},
        {"verdict": "altermagnet", "run_id": filled["run_id"]},
        {"run_id": other_run},
        {"elements": ["Mn"], "max_rank": 1},
        {"min_score": 0.5},
    ):
        expected = {c.material_id for c in store.iter_candidates(**filters)}
        assert expected and store.candidate_material_ids(**filters) == expected, filters
    assert store.candidate_material_ids(q) == {c.material_id for c in store.iter_candidates(q)}


@pytest.mark.parametrize("sort", ["score", "heuristic_score", "formula", "newest"])
def test_sorting_and_cursor_pages_have_no_gaps_or_duplicates(
    store: Store, analysed: dict, enumerated: dict, sort: str
) -> None:
    filled = _fill(store, analysed, enumerated)
    pages, cursor = [], None
    while True:
        page = store.candidates(sort=sort, cursor=cursor, limit=7)
        assert len(page.items) <= 7
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    rows = [c for p in pages for c in p]
    ids = [c.order_id for c in rows]
    assert len(ids) == len(set(ids)) == filled["n_orders"]  # no duplicates, no gaps
    assert len(pages) == -(-filled["n_orders"] // 7)

    def key(c):  # the documented order, ties by order id in the same direction
        missing = -1e300
        return {
            "score": (c.score if c.score is not None else missing, c.order_id),
            "heuristic_score": (
                c.heuristic_score if c.heuristic_score is not None else missing,
                c.order_id,
            ),
            "newest": (c.order_id, c.order_id),
        }[sort]

    if sort == "formula":  # A to Z in byte order, ties by ascending id
        expected = sorted(rows, key=lambda c: (c.formula.encode(), c.order_id))
    else:
        expected = sorted(rows, key=key, reverse=True)
    assert ids == [c.order_id for c in expected]
    if sort == "score":
        assert rows[0].score == max(c.score for c in rows if c.score is not None)
        assert rows[-1].score is None  # unscored last
    if sort == "formula":
        assert rows[0].formula == "Cr2O3" and rows[-1].formula == "NiO"


def test_rows_added_between_pages_do_not_shift_a_page(
    store: Store, analysed: dict, enumerated: dict
) -> None:
    _fill(store, analysed, enumerated)
    first = store.candidates(sort="formula", limit=10)
    s, r = analysed["CrSb"]
    store.add_analysis(_scaled(s, 0.9), r)  # sorts before the cursor: must not appear later
    rest = list(
        store.candidates(sort="formula", cursor=first.next_cursor, limit=MAX_PAGE_SIZE).items
    )
    seen = {c.order_id for c in first.items}
    assert not seen & {c.order_id for c in rest}
    assert all(c.formula >= first.items[-1].formula for c in rest)


def test_limits_and_cursors_are_checked(store: Store, analysed: dict) -> None:
    s, r = analysed["MnF2"]
    store.add_analysis(s, r)
    assert store.candidates(limit=10**6).limit == MAX_PAGE_SIZE
    with pytest.raises(ValueError, match="limit"):
        store.candidates(limit=0)
    with pytest.raises(ValueError, match="unknown sort"):
        store.candidates(sort="price")
    with pytest.raises(ValueError, match="invalid cursor"):
        store.candidates(cursor="not-a-cursor!")
    page = store.candidates(sort="formula", limit=1)
    assert page.next_cursor is None  # a single row: one page
    store.add_analysis(*analysed["MnTe"])
    page = store.candidates(sort="formula", limit=1)
    with pytest.raises(ValueError, match="sort='formula'"):
        store.candidates(sort="score", cursor=page.next_cursor)


# ---------------------------------------------------------------------- runs
def test_run_records_inputs_and_a_corrupt_file(store: Store, analysed: dict) -> None:
    run_id = store.start_run("local:examples", {"symprec": 0.1})
    paths = [EXAMPLE_FILES["MnF2"], BAD / "empty.cif", EXAMPLE_FILES["MnTe"], BAD / "junk.cif"]
    messages = {}
    for path in paths:
        try:
            s = read_structure(path)
        except StructureReadError as exc:
            messages[str(path)] = str(exc)
            store.record_error(run_id, str(path), str(exc))
            continue
        store.add_analysis(
            s, altermag.analyze(s), source="local", run_id=run_id, input_ref=str(path)
        )
    record = store.finish_run(run_id, counts={"altermagnets": 2})
    assert record.status == "completed" and record.finished_at is not None
    assert (record.n_inputs, record.n_materials, record.n_failed) == (4, 2, 2)
    assert record.counts == {"altermagnets": 2, "inputs": 4, "materials": 2, "failed": 2}
    assert {i.input_ref: i.error for i in record.failed_inputs} == messages
    assert "empty" in messages[str(BAD / "empty.cif")]
    assert record.parameters == {"symprec": 0.1}
    assert store.run(run_id) == record
    assert store.run(10**6) is None
    assert [r.id for r in store.runs()] == [run_id]


def test_a_keyed_run_resumes(store: Store, analysed: dict) -> None:
    a = store.start_run("corpus", {"limit": 10}, key="nightly-2026-11-25")
    store.add_analysis(*analysed["MnF2"], run_id=a, input_ref="MnF2")
    store.record_error(a, "bad-one", "could not parse")
    store.finish_run(a, status="failed", errors=["killed"])
    b = store.start_run("corpus", {"limit": 10}, key="nightly-2026-11-25")
    assert a == b
    run = store.run(b)
    assert run is not None and run.status == "running" and run.finished_at is None
    store.add_analysis(*analysed["MnF2"], run_id=b, input_ref="MnF2")  # redone after resume
    store.record_input(b, "bad-one", store.add_material(analysed["MnTe"][0]))  # now fine
    done = store.finish_run(b)
    assert (done.n_inputs, done.n_failed, done.errors) == (2, 0, ["killed"])
    with pytest.raises(ValueError):
        store.finish_run(b, status="exploded")


def test_a_screened_chunk_with_a_corrupt_file(store: Store, tmp_path: Path) -> None:
    import shutil

    from altermag.screening import ScreenSettings, screen_records
    from altermag.sources.local import LocalSource

    folder = tmp_path / "inputs"
    folder.mkdir()
    for name in ("MnF2", "MnTe", "CrSb"):
        shutil.copy(EXAMPLE_FILES[name], folder)
    shutil.copy(BAD / "junk.cif", folder / "broken.cif")
    settings = ScreenSettings()
    run_id = store.start_run("local", settings.to_dict(), key="chunk-test")
    for page in LocalSource(folder, page_size=2).pages():
        entries = screen_records(page.records, settings)
        store.add_screened(entries, settings, run_id=run_id)
        store.set_run_cursor(run_id, page.next_cursor)
    record = store.finish_run(run_id)
    assert (record.n_inputs, record.n_materials, record.n_failed) == (4, 3, 1)
    (failed,) = record.failed_inputs
    assert failed.input_ref == "broken.cif" and failed.error
    assert record.source_cursor is None  # the source was read to its end
    alter = list(store.iter_candidates(verdict="altermagnet", run_id=run_id))
    assert {(c.formula, c.wave) for c in alter} == {("MnF2", "d"), ("MnTe", "g"), ("CrSb", "g")}
    assert {c.source_id for c in alter} == {"MnF2.mcif", "MnTe.json", "CrSb.extxyz"}
    before = store.row_counts()
    for page in LocalSource(folder).pages():  # the whole screening again: nothing new
        store.add_screened(screen_records(page.records, settings), settings, run_id=run_id)
    assert store.row_counts() == before


WRITER = """
import sys
import altermag
from altermag.io import read_structure
from altermag.store import AnalysisItem, Store
from altermag.structure import MagneticStructure

url, reverse = sys.argv[1], sys.argv[2] == "1"
items = []
for name in ("MnF2.mcif", "MnTe.json", "CrSb.extxyz", "Cr2O3.cif"):
    s = read_structure(f"{sys.argv[3]}/{name}")
    r = altermag.analyze(s)
    for i in range(12):
        f = 1 + 0.002 * i
        x = MagneticStructure(s.lattice * f, s.species, s.frac_coords, s.magmoms, s.label)
        items.append(AnalysisItem(x, r, f"{name}#{i}", "concurrent"))
if reverse:
    items.reverse()
store = Store(url, migrate=sys.argv[4] == "1")
run_id = store.start_run("concurrent", key="shared")
for k in range(0, len(items), 8):
    store.add_analyses(items[k : k + 8], run_id=run_id)
print(store.row_counts()["magnetic_orders"])
"""


def test_concurrent_writers_store_each_row_once(db_url: str) -> None:
    """Two processes store the same 48 structures at once, in opposite orders.

    On PostgreSQL both also create the schema of the empty database at the same time (the
    migration holds an advisory lock); on SQLite the schema is created first.
    """
    import subprocess
    import sys

    concurrent_migration = db_url.startswith("postgresql")
    if not concurrent_migration:
        upgrade(db_url)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                db_url,
                rev,
                str(EXAMPLES),
                str(int(concurrent_migration)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rev in ("0", "1")
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    with Store(db_url, migrate=False) as store:
        counts = store.row_counts()
        (run,) = store.runs()
    assert counts["materials"] == 48
    assert counts["magnetic_orders"] == 3 * 12 + 4 * 12  # Cr2O3 has 4 enumerated orders
    assert counts["screening_runs"] == 1 and run.n_inputs == 48 and run.n_failed == 0


def test_bulk_inserts_refuse_rows_that_leave_a_column_to_python(
    store: Store, analysed: dict
) -> None:
    """The store's bulk inserts hand rows to the driver as they are: a row without a value
    for a column whose default is computed in Python (a timestamp) is refused, not stored
    without it, and nothing is written."""
    from altermag.store.database import BulkInsert
    from altermag.store.models import ModelScore

    mid = store.add_analysis(*analysed["MnF2"], source="examples").material_id
    insert = BulkInsert(store.db, store.db.insert(ModelScore).on_conflict_do_nothing())
    revision = store.revision()
    row = {"material_id": mid, "model_version": "v1", "score": 0.5, "p_k0": None}
    with pytest.raises(ValueError, match="created_at"), store.db.session() as s:
        insert(s, [row])
    assert store.revision() == revision and store.row_counts()["model_scores"] == 0


# ---------------------------------------------------------------------- integrity
def test_foreign_keys_are_enforced(store: Store, analysed: dict) -> None:
    with pytest.raises(IntegrityError):
        store.add_score(424242, "prior-v1", 0.5)
    with pytest.raises(IntegrityError):
        store.record_input(424242, "x", 1)
    s, r = analysed["MnTe"]
    stored = store.add_analysis(s, r)
    store.add_score(stored.material_id, "prior-v1", 0.5)
    with store.session() as session:  # deleting a material removes what hangs on it
        session.execute(delete(Material).where(Material.id == stored.material_id))
    counts = store.row_counts()
    assert counts["magnetic_orders"] == counts["model_scores"] == counts["material_elements"] == 0


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


@pytest.mark.postgres
@requires("postgres")
def test_ensure_postgres_script_reports_a_running_server() -> None:
    import subprocess

    script = ROOT / "scripts" / "ensure-postgres.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _postgres_reachable()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ALTERMAG_DATABASE_URL", raising=False)
    monkeypatch.delenv("ALTERMAG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / 'altermag.db'}"  # the working directory
    monkeypatch.setenv("ALTERMAG_HOME", str(tmp_path / "home"))
    assert database_url() == f"sqlite:///{tmp_path / 'home' / 'altermag.db'}"
    monkeypatch.setenv("ALTERMAG_DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


# ---------------------------------------------------------------------- DFT and API keys
def test_dft_jobs_and_results(store: Store, analysed: dict) -> None:
    s, r = analysed["CrSb"]
    stored = store.add_analysis(s, r)
    job = store.add_dft_job(
        stored.material_id, "qe", order_id=stored.order_ids[0], parameters={"ecutwfc": 30}
    )
    store.set_dft_status(job, "running", directory="/tmp/dft/CrSb")
    verdict = {"splitting_follows_form_factor": True, "nodal_max_ev": 0.002}
    store.set_dft_result(job, verdict, 0.61)
    store.set_dft_result(job, verdict, 0.63)  # re-parsed: replaced, not duplicated
    m = store.material(stored.material_id)
    assert m is not None
    (rec,) = m.dft_jobs
    assert (rec.code, rec.status, rec.directory) == ("qe", "completed", "/tmp/dft/CrSb")
    assert (rec.verdict, rec.max_splitting_ev, rec.order_id) == (
        verdict,
        0.63,
        stored.order_ids[0],
    )
    assert store.row_counts()["dft_results"] == 1
    with pytest.raises(ValueError):
        store.set_dft_status(job, "teleported")


def test_api_keys(store: Store) -> None:
    key = store.create_api_key("ci")
    other = store.create_api_key("lab")
    assert key != other and key.startswith("am_") and len(key) > 40
    rec = store.verify_api_key(key)
    assert rec is not None and rec.name == "ci" and rec.active
    assert store.verify_api_key(key + "x") is None
    with store.session() as s:  # only the hash is stored
        stored = s.execute(text("SELECT key_hash FROM api_keys")).scalars().all()
    assert key not in stored and len(stored) == 2
    assert store.revoke_api_key("ci") and not store.revoke_api_key("ci")
    assert store.verify_api_key(key) is None
    assert store.verify_api_key(other) is not None
    assert [(k.name, k.active) for k in store.api_keys()] == [("ci", False), ("lab", True)]
    for taken in ("lab", "ci"):  # active or revoked: a name is used once
        with pytest.raises(StoreError, match="exists already"):
            store.create_api_key(taken)
    with pytest.raises(SettingsError, match="scope"):
        store.create_api_key("root", "superuser")
    admin = store.verify_api_key(store.create_api_key("ops", "admin"))
    assert admin is not None and admin.scope == "admin" and admin.allows("write")
    assert rec.scope == "write" and rec.allows("read") and not rec.allows("admin")


# ---------------------------------------------------------------------- migrations
def test_migrations_upgrade_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    tables = set(Base.metadata.tables)
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head()
    assert tables <= set(inspect(engine).get_table_names())
    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    assert not tables & set(inspect(engine).get_table_names())
    upgrade(db_url)
    with Store(db_url, migrate=False) as s:
        assert s.row_counts()["materials"] == 0
    engine.dispose()


def _schema(db_url: str) -> dict[str, Any]:
    """Everything the database says of the store's schema: per table its columns (type,
    nullability, default; by name, as a column a migration added comes last in its table),
    keys, foreign keys, indexes, unique and check constraints; the state row and the Alembic
    revision."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ins = inspect(conn)
        out: dict[str, Any] = {}
        for table in sorted(ins.get_table_names()):
            out[table] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in ins.get_columns(table)
                ),
                "pk": ins.get_pk_constraint(table),
                "fks": sorted(map(repr, ins.get_foreign_keys(table))),
                "indexes": sorted(map(repr, ins.get_indexes(table))),
                "unique": sorted(map(repr, ins.get_unique_constraints(table))),
                "checks": sorted(map(repr, ins.get_check_constraints(table))),
            }
        out["rows"] = (
            conn.execute(text("SELECT id, revision FROM store_state")).all(),
            conn.execute(text("SELECT version_num FROM alembic_version")).all(),
        )
    engine.dispose()
    return out


def test_a_new_store_is_created_as_the_migrations_make_it(db_url: str) -> None:
    """An empty database gets the models' tables at the head revision in one step; the
    schema is the one the migrations build, to the last index and default, and the
    migrations run on from it (down to nothing and up again)."""
    assert create_schema(db_url)
    assert current_revision(db_url) == head()
    created = _schema(db_url)
    assert created["rows"] == ([(1, 0)], [(head(),)])
    assert not create_schema(db_url)  # a database with tables is left to the migrations
    downgrade(db_url, "base")
    upgrade(db_url)
    assert _schema(db_url) == created
    with Store(db_url) as s:
        assert s.revision() == 0 and s.row_counts()["materials"] == 0


def test_stores_opened_together_on_a_new_database_create_it_once(db_url: str) -> None:
    """Four processes' worth of stores opening one empty database at once (the API's
    workers starting): one creates the schema, the others wait for it and find it at head."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: create_schema(db_url), range(4)))
    assert sorted(made) == [False, False, False, True]
    assert current_revision(db_url) == head()
    with Store(db_url) as s:
        assert s.revision() == 0


def test_migrations_match_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(db_url)
    engine = make_engine(db_url)

    def for_this_database(obj: Any, name: Any, kind: str, reflected: bool, other: Any) -> bool:
        """Objects the models create on this dialect only (``ddl_if``) are compared there."""
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect in (None, engine.dialect.name)

    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": for_this_database}
            ),
            Base.metadata,
        )
    engine.dispose()
    assert diff == []


def _pages(store: Store) -> list[list[tuple[Any, ...]]]:
    """Every candidate page under every sort, as (order id, formula, verdict, wave) rows."""
    from altermag.store import SORTS

    return [
        [(c.order_id, c.formula, c.verdict, c.wave) for c in store.iter_candidates(sort=sort)]
        for sort in SORTS
    ]


def test_vacuum_keeps_every_candidate_and_gives_sqlite_its_page_size(
    db_url: str, analysed: dict, enumerated: dict
) -> None:
    """A store made with SQLite's old 4 kB pages comes out of ``vacuum`` with 8 kB pages, in
    write-ahead logging, intact; a PostgreSQL store's tables are vacuumed and analysed. Both
    list the same candidates under every sort as before (MnF2 d-wave, MnTe g-wave among them)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    from altermag.store import vacuum
    from altermag.store.engine import SQLITE_PAGE_SIZE

    sqlite = db_url.startswith("sqlite")
    if sqlite:  # a file written before 8 kB pages were the default
        raw = sqlite3.connect(str(make_url(db_url).database))
        raw.execute("PRAGMA page_size = 4096")
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("CREATE TABLE made_with_4k_pages (x)")
        raw.execute("DROP TABLE made_with_4k_pages")
        raw.close()
    with Store(db_url) as store:
        _fill(store, analysed, enumerated)
        before = _pages(store)
    waves = {(c[1], c[3]) for page in before for c in page if c[2] == "altermagnet"}
    assert {("MnF2", "d"), ("MnTe", "g")} <= waves

    done = vacuum(db_url)

    engine = make_engine(db_url)
    with engine.connect() as conn:
        if sqlite:
            assert (done.dialect, done.page_size_before) == ("sqlite", 4096)
            assert done.page_size_after == SQLITE_PAGE_SIZE
            assert conn.exec_driver_sql("PRAGMA page_size").scalar_one() == SQLITE_PAGE_SIZE
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        else:
            assert done.dialect == "postgresql" and done.page_size_before is None
            stats = conn.execute(
                text(
                    "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                    "FROM pg_stat_user_tables WHERE relid = to_regclass('magnetic_orders')"
                )
            ).scalar_one()
            assert stats
    engine.dispose()
    assert done.bytes_after > 0
    with Store(db_url) as store:
        assert _pages(store) == before


def test_head_read_from_the_migration_files_is_alembics_head() -> None:
    """A store is migrated exactly when it is not at the head Alembic would migrate to."""
    from alembic.script import ScriptDirectory

    from altermag.store.migrate import alembic_config

    assert head() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_pool_size_bounds_the_stores_connections(db_url: str) -> None:
    """``pool_size`` is a hard bound (no overflow): an API worker's share of the server's
    connections stays what it was sized to."""
    with Store(db_url, pool_size=2) as store:
        pool: Any = store.engine.pool
        assert pool.size() == 2
        assert pool._max_overflow == 0
    with Store(db_url) as store:  # SQLAlchemy's default otherwise
        assert store.engine.pool._max_overflow > 0  # type: ignore[attr-defined]

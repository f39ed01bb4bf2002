"""OPTIMADE filters as SQL, on SQLite and PostgreSQL: every answer equals the filter evaluated
by hand over all entries; the store's own formula and DFT-status filters on both databases."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient

from altermag.store import Store
from tests.api_server import fill_store

Entry = dict[str, Any]
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

# (filter, the same condition on an entry's attributes, written independently)
CASES: list[tuple[str, Callable[[Entry], bool]]] = [
    ('elements HAS "Mn"', lambda a: "Mn" in a["elements"]),
    ('elements HAS ALL "Mn","F"', lambda a: {"Mn", "F"} <= set(a["elements"])),
    ('elements HAS ANY "Ru","Sb"', lambda a: bool({"Ru", "Sb"} & set(a["elements"]))),
    ('elements HAS ONLY "Mn","Te","F"', lambda a: set(a["elements"]) <= {"Mn", "Te", "F"}),
    ("elements LENGTH 3", lambda a: len(a["elements"]) == 3),
    ("elements LENGTH >= 3", lambda a: len(a["elements"]) >= 3),
    ("nsites > 10", lambda a: a["nsites"] > 10),
    ("NOT nsites > 10", lambda a: not a["nsites"] > 10),
    ('chemical_formula_reduced = "F2Mn"', lambda a: a["chemical_formula_reduced"] == "F2Mn"),
    ('chemical_formula_reduced = "MnF2"', lambda a: a["chemical_formula_reduced"] == "F2Mn"),
    ('chemical_formula_reduced < "Fe"', lambda a: a["chemical_formula_reduced"] < "Fe"),
    ('chemical_formula_descriptive >= "Mn"', lambda a: a["chemical_formula_descriptive"] >= "Mn"),
    (
        'chemical_formula_descriptive CONTAINS "O"',
        lambda a: "O" in a["chemical_formula_descriptive"],
    ),
    (
        'chemical_formula_descriptive CONTAINS "o"',
        lambda a: "o" in a["chemical_formula_descriptive"],
    ),
    (
        'chemical_formula_descriptive STARTS WITH "Mn"',
        lambda a: a["chemical_formula_descriptive"].startswith("Mn"),
    ),
    (
        'chemical_formula_descriptive ENDS "O4"',
        lambda a: a["chemical_formula_descriptive"].endswith("O4"),
    ),
    ('chemical_formula_anonymous = "AB"', lambda a: a["chemical_formula_anonymous"] == "AB"),
    (
        '_altermag_verdict = "altermagnet" AND NOT _altermag_wave = "d"',
        lambda a: (
            a["_altermag_verdict"] == "altermagnet" and a["_altermag_wave"] not in ("d", None)
        ),
    ),
    ("_altermag_wave IS UNKNOWN", lambda a: a["_altermag_wave"] is None),
    (
        "_altermag_probability IS KNOWN AND _altermag_probability < 0.5",
        lambda a: a["_altermag_probability"] is not None and a["_altermag_probability"] < 0.5,
    ),
    (
        '_altermag_dft_status = "confirmed" OR _altermag_order_rank = 2',
        lambda a: a["_altermag_dft_status"] == "confirmed" or a["_altermag_order_rank"] == 2,
    ),
    ("0.6 < _altermag_probability", lambda a: (a["_altermag_probability"] or -1) > 0.6),
    ('last_modified >= "2000-01-01T00:00:00Z"', lambda a: True),
    ('last_modified < "2000-01-01T00:00:00Z"', lambda a: False),
    ("nperiodic_dimensions = 3", lambda a: True),
    ('structure_features HAS "disorder"', lambda a: False),
]


@pytest.fixture
def client(db_url: str) -> TestClient:
    fill_store(db_url)
    return TestClient(create_app(db_url))


def _all(client: TestClient, flt: str | None = None, **params: Any) -> list[Entry]:
    out: list[Entry] = []
    offset = 0
    while True:
        query = {"page_limit": 7, "page_offset": offset, **params}
        if flt is not None:
            query["filter"] = flt
        r = client.get("/optimade/v1/structures", params=query)
        assert r.status_code == 200, r.text
        doc = r.json()
        out += [{"id": d["id"], **d["attributes"]} for d in doc["data"]]
        if not doc["meta"]["more_data_available"]:
            assert doc["meta"]["data_returned"] == len(out)
            return out
        offset += len(doc["data"])


def test_filters_select_what_they_say(client: TestClient) -> None:
    entries = _all(client)
    assert len(entries) == client.get("/optimade/v1/structures").json()["meta"]["data_available"]
    assert len({e["id"] for e in entries}) == len(entries) > 10
    for flt, expected in CASES:
        want = sorted(e["id"] for e in entries if expected(e))
        got = sorted(e["id"] for e in _all(client, flt))
        assert got == want, flt


def test_ids_compare_as_strings_and_sort(client: TestClient) -> None:
    ids = [e["id"] for e in _all(client)]
    got = [e["id"] for e in _all(client, 'id >= "2"')]
    assert sorted(got) == sorted(i for i in ids if i >= "2")  # byte order, as strings
    by_probability = _all(client, "_altermag_probability IS KNOWN", sort="-_altermag_probability")
    values = [e["_altermag_probability"] for e in by_probability]
    assert values == sorted(values, reverse=True) and len(values) >= 6


def test_store_formula_and_dft_filters(db_url: str) -> None:
    filled = fill_store(db_url)
    with Store(db_url) as store:
        for spelling in ("MnF2", "F2Mn", "Mn2F4"):
            page = store.candidates(formula=spelling)
            assert {c.order_id for c in page.items} == set(filled.orders["MnF2"]), spelling
        confirmed = store.candidates(dft_status="confirmed").items
        assert [c.order_id for c in confirmed] == [filled.orders["MnF2"][0]]
        unchecked = store.candidates(dft_status=["unchecked"], limit=500).items
        both = store.candidates(dft_status=["unchecked", "confirmed"], limit=500).items
        assert len(both) == len(unchecked) + 1 == sum(len(v) for v in filled.orders.values())

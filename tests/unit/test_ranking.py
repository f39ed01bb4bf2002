"""The one ranking: order choice within a crystal and the candidate table's order."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from altermag.io import read_structure
from altermag.ranking import rank_candidates, rank_orders
from altermag.sources.magndata import is_revised, magndata_id
from altermag.symmetry import analyze

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


def test_magndata_ids_from_collection_file_names() -> None:
    assert magndata_id(Path("0.15.mcif")) == "0.15"
    assert magndata_id(Path("1.0.48_MnSe2.mcif")) == "1.0.48"  # not "1.0" (59 entries collided)
    assert magndata_id(Path("0.1000_Fe4O5.mcif")) == "0.1000"
    assert magndata_id(Path("revised_0.226_NdCo2.mcif")) == "0.226"
    assert is_revised(Path("revised_0.226_NdCo2.mcif"))
    assert not is_revised(Path("0.226_NdCo2.mcif"))
    assert magndata_id(Path("notes.mcif")) == "notes"


def _rows() -> list[dict]:
    rows = []
    for mid, p_am, proto in [("a", 0.9, "X"), ("b", 0.9, "X"), ("c", 0.5, "Y"), ("d", None, "Z")]:
        for rank in (1, 2):
            rows.append(
                {
                    "id": mid,
                    "order_rank": rank,
                    "p_altermagnetic_ground_state": p_am,
                    "p_ground_state": 0.7 if rank == 1 else 0.3,
                    "can_host_altermagnet": True,
                    "order_score": 0.5,
                    "wave": "d",
                    "prototype": proto,
                }
            )
    return rows


def test_one_row_per_material_by_probability_with_deterministic_ties() -> None:
    rows = _rows()
    ranked = rank_candidates(rows)
    assert [r["id"] for r in ranked] == ["a", "b", "c", "d"]  # tie a/b by id; unscored last
    assert all(r["order_rank"] == 1 for r in ranked)
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert rank_candidates(shuffled) == ranked


def test_all_orders_and_prototype_cap() -> None:
    assert len(rank_candidates(_rows(), all_orders=True)) == 8
    capped = rank_candidates(_rows(), max_per_prototype=1)
    assert [r["id"] for r in capped] == ["a", "c", "d"]


def test_stored_rows_rank_as_the_store_pages_them() -> None:
    """Rows carrying their stored ids: equal P broken by order id, highest first (the store's
    ``sort=score`` keyset order); two inputs of one stored crystal are one material."""
    from altermag.screening import count_candidates

    rows = [
        {"id": "x.cif", "material_id": 1, "order_id": 10, "order_rank": 1},
        {"id": "x.cif", "material_id": 1, "order_id": 11, "order_rank": 2},
        {"id": "y.cif", "material_id": 2, "order_id": 12, "order_rank": 1},
        {"id": "x-copy.cif", "material_id": 1, "order_id": 10, "order_rank": 1},
        {"id": "x-copy.cif", "material_id": 1, "order_id": 11, "order_rank": 2},
    ]
    for r in rows:
        r["p_altermagnetic_ground_state"] = 0.4
        r["can_host_altermagnet"] = True
    assert [(r["material_id"], r["order_id"]) for r in rank_candidates(rows)] == [(2, 12), (1, 10)]
    assert rank_candidates(rows)[1]["id"] == "x-copy.cif"  # the first name, byte order
    every = rank_candidates(rows, all_orders=True)
    assert [r["order_id"] for r in every] == [12, 11, 10]
    assert count_candidates(rows) == 2


def test_rank_orders_keeps_every_order_once_best_first() -> None:
    mnf2 = read_structure(EXAMPLES / "MnF2.mcif")
    res = analyze(mnf2.with_moments(None))
    ranked = rank_orders(mnf2.with_moments(None), res)
    assert sorted(id(r.order) for r in ranked) == sorted(id(o) for o in res.orders)
    assert [r.rank for r in ranked] == list(range(1, len(res.orders) + 1))
    probs = [r.p_ground_state for r in ranked]
    if all(p is not None for p in probs):
        assert np.isclose(sum(probs), 1.0)
        assert probs == sorted(probs, reverse=True)
    # given probabilities decide the order
    flipped = rank_orders(mnf2.with_moments(None), res, [float(k) for k in range(len(res.orders))])
    assert flipped[0].order is res.orders[-1]

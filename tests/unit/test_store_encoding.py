"""The store's JSON encoding: results and structures encoded once for the bulk inserts, and
the moments key of an order row.

The text a JSON column stores must decode to exactly what ``to_dict()`` gives (with orjson and
with the json module), and the moments key must be the SHA-256 of the canonical JSON of the
moments rounded to 0.01 μB, whatever fast path computes it: a re-screen finds its stored
orders by that key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from altermag.io import read_structure
from altermag.result import SpinGroupResult
from altermag.store import engine
from altermag.store.engine import EncodedJSON, encode_json
from altermag.store.orders import moments_key
from altermag.symmetry import analyze

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


@pytest.fixture(scope="module")
def results() -> list[SpinGroupResult]:
    """MnF2 with its moments (one order) and without them (enumerated orders)."""
    mnf2 = read_structure(EXAMPLES / "MnF2.mcif")
    out = [analyze(mnf2), analyze(mnf2.with_moments(None))]
    assert not out[0].orders and out[1].orders
    return out


@pytest.mark.parametrize("with_orjson", [True, False])
def test_encoded_results_decode_to_their_dicts(
    results: list[SpinGroupResult], with_orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not with_orjson:
        monkeypatch.setattr(engine, "orjson", None)
    for r in results:
        for res in [r, *(o.result for o in r.orders)]:
            text = encode_json(res)
            assert isinstance(text, EncodedJSON)
            assert json.loads(text) == res.to_dict()
            assert SpinGroupResult.from_dict(json.loads(text)).verdict == res.verdict
            # the engine's serializer stores encoded text as it is, and encodes the rest
            assert engine._serialize_json(text) is text
            assert json.loads(engine._serialize_json(res.to_dict())) == res.to_dict()
    structure = read_structure(EXAMPLES / "MnF2.mcif")
    assert json.loads(encode_json(structure.to_dict())) == structure.to_dict()


def _canonical_key(moments: list[Any] | None) -> str:
    rounded = None if moments is None else [round(float(m), 2) + 0.0 for m in moments]
    text = json.dumps(rounded, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "moments",
    [
        None,
        [],
        [4.6, -4.6, 0.0, 0.0],
        [1.0, -1.0, 0.0, 0.0, 1.0, -1.0],
        [-0.004, 0.004, 2.345, -2.355],
        [1e-7, 3.5e16, -1e22],
        [float("nan"), float("inf"), -float("inf"), 1.0],
        [1, -1, 0, 0, True, -0.0],  # the signs of an enumerated order, as integers
        list(np.array([1.0, -1.0, 0.004, -2.5])),  # numpy scalars
    ],
)
def test_moments_key_is_the_hash_of_the_canonical_json(moments: list[Any] | None) -> None:
    assert moments_key(moments) == _canonical_key(moments)


def test_moments_key_rounds_to_a_hundredth_of_a_bohr_magneton() -> None:
    up_down = [4.6, -4.6, 0.0]
    assert moments_key([4.601, -4.599, 0.004]) == moments_key(up_down)
    assert moments_key([4.6, -4.6, -0.004]) == moments_key(up_down)  # -0.0 is 0
    assert moments_key([-4.6, 4.6, 0.0]) != moments_key(up_down)  # the time-reversed order
    assert moments_key([4.62, -4.6, 0.0]) != moments_key(up_down)
    assert moments_key(None) != moments_key([])

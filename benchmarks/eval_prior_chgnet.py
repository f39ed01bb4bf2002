"""CHGNet site moments as the site filter of the enumeration, measured on MAGNDATA.

    .venv/bin/python benchmarks/eval_prior_chgnet.py     # ~30 min on 2 shared cores

For every k = 0 collinear MAGNDATA entry: is the experimental order among the orders enumerated
(a) on every site of a magnetic element (the default), (b) on the elements CHGNet gives a site
moment above 0.5 μB (relaxation-free prediction, task ``em``)? Writes
``benchmarks/eval_prior_chgnet.json``. Needs the ``chgnet`` package and the MAGNDATA folder.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from altermag.config import get_settings
from altermag.elements import MAGNETIC_ELEMENTS
from altermag.errors import AltermagError
from altermag.io import StructureReadError, read_structure
from altermag.ml.magndata import experimental_signs, match_order
from altermag.sources.magndata import magndata_id
from altermag.symmetry import analyze
from altermag.symmetry.enumerate import enumerate_orders

OUT = Path(__file__).resolve().with_suffix(".json")


def main() -> None:
    import torch
    from chgnet.model import CHGNet

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    model = CHGNet.load(verbose=False)
    rows = []
    for path in sorted(get_settings().magndata_dir.rglob("*.mcif")):
        if not magndata_id(path).startswith("0.") or path.name.startswith("revised_"):
            continue
        try:
            s = read_structure(path, fmt="mcif")
        except (StructureReadError, AltermagError, ValueError):
            continue
        if experimental_signs(s) is None:
            continue
        bare = s.with_moments(None)
        t0 = time.perf_counter()
        try:
            pred = model.predict_structure(bare.to_pymatgen(), task="em")
        except Exception:  # CHGNet refuses some cells: left out
            continue
        seconds = time.perf_counter() - t0
        m = np.abs(np.asarray(pred["m"]).ravel())
        carriers = frozenset(e for e, x in zip(bare.species, m, strict=True) if x > 0.5)
        carriers &= MAGNETIC_ELEMENTS
        try:
            default = match_order(s, analyze(bare)) is not None
            chg = (
                bool(carriers)
                and match_order(s, enumerate_orders(bare, magnetic_elements=carriers)) is not None
            )
        except AltermagError:
            continue
        rows.append({"id": magndata_id(path), "default": default, "chgnet": chg, "s": seconds})
    out = {
        "n": len(rows),
        "found_default_sites": sum(r["default"] for r in rows),
        "found_chgnet_sites": sum(r["chgnet"] for r in rows),
        "gained": sum(r["chgnet"] and not r["default"] for r in rows),
        "lost": sum(r["default"] and not r["chgnet"] for r in rows),
        "median_seconds": float(np.median([r["s"] for r in rows])) if rows else None,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()

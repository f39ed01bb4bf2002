"""Which enumerated magnetic order is the DFT ground state: total energies of the k = 0 orders.

A symmetry-allowed altermagnetic order is not a discovery unless it is the order the crystal
takes. This package computes, with one code and one set of settings, the spin-polarised total
energy of each collinear k = 0 order that :func:`altermag.symmetry.enumerate.enumerate_orders`
finds (DFT+U as the preset says), and names the lowest. One idea per module:

- :mod:`~altermag.dft.groundstate.contract`: the JSON contract (:class:`OrderEnergy`,
  :class:`GroundState`) that the CLI's ``--json``, the store and the API carry;
- :mod:`~altermag.dft.groundstate.orders`: which orders, on one cell (:func:`plan_orders`);
- :mod:`~altermag.dft.groundstate.judge`: one order's SCF — converged, collapsed, flipped
  (:func:`judge_moments`, :func:`judge_scf`);
- :mod:`~altermag.dft.groundstate.compare`: the ground state, relative energies per magnetic
  atom and the margin; near-degenerate below the preset's ``near_degenerate_mev``
  (:func:`summarize`);
- :mod:`~altermag.dft.groundstate.qe`: pw.x decks, runs and outputs of one order, and the
  optional ``vc-relax``;
- :mod:`~altermag.dft.groundstate.vasp`: VASP decks and OUTCARs of one order;
- :mod:`~altermag.dft.groundstate.codes`: which code writes and reads an order;
- :mod:`~altermag.dft.groundstate.slurm`: one Slurm job per order, polled and resumed;
- :mod:`~altermag.dft.groundstate.search`: the search over orders (:func:`run_groundstate`);
- :mod:`~altermag.dft.groundstate.stored`: a stored material's search, keyed, reused and
  resumed (:func:`stored_search`, :func:`search_material`);
- :mod:`~altermag.dft.groundstate.bandcheck`: the band check on an altermagnetic winner only
  (:func:`band_check_winner`).
"""

from __future__ import annotations

from altermag.dft.groundstate.bandcheck import NOT_ALTERMAGNETIC, band_check_winner
from altermag.dft.groundstate.compare import summarize
from altermag.dft.groundstate.contract import (
    RY_EV,
    GroundState,
    GroundStateError,
    OrderEnergy,
)
from altermag.dft.groundstate.judge import ScfFacts, judge_moments, judge_scf
from altermag.dft.groundstate.orders import START_MOMENT, OrderPlan, label_order, plan_orders
from altermag.dft.groundstate.qe import read_order
from altermag.dft.groundstate.search import (
    HYPOTHETICAL_SOURCES,
    poll_groundstate,
    prepare_groundstate,
    run_groundstate,
)
from altermag.dft.groundstate.stored import (
    StoredSearch,
    collect_groundstate,
    search_key,
    search_material,
    stored_search,
)
from altermag.dft.groundstate.vasp import read_vasp_order, vasp_order_files

__all__ = [
    "HYPOTHETICAL_SOURCES",
    "NOT_ALTERMAGNETIC",
    "RY_EV",
    "START_MOMENT",
    "GroundState",
    "GroundStateError",
    "OrderEnergy",
    "OrderPlan",
    "ScfFacts",
    "StoredSearch",
    "band_check_winner",
    "collect_groundstate",
    "judge_moments",
    "judge_scf",
    "label_order",
    "plan_orders",
    "poll_groundstate",
    "prepare_groundstate",
    "read_order",
    "read_vasp_order",
    "run_groundstate",
    "search_key",
    "search_material",
    "stored_search",
    "summarize",
    "vasp_order_files",
]

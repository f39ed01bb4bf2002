"""The OPTIMADE endpoint of a real ``altermag api`` server: the optimade package's own
validator, formula and provider-field filters, and OPTIMADE clients reading it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from altermag import MagneticStructure, analyze
from altermag.store import Store
from tests.api_server import ApiServer, FilledStore, fill_store
from tests.integration.test_groundstate_store import _recorded as recorded_search
from tests.literature import mnf2, rutile


def _cro2() -> MagneticStructure:
    """Rutile CrO2 without moments: its recorded DFT ground-state search is ferromagnetic."""
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0).with_moments(None)


def add_ground_state_searches(filled: FilledStore) -> None:
    """The recorded real ground-state searches: MnF2's (altermagnetic ground state) on the
    stored MnF2, and CrO2 (ferromagnetic ground state) as a new material."""
    with Store(filled.url) as store:
        cro2 = _cro2()
        mid = store.add_material(cro2, source="test", source_id="CrO2")
        filled.materials["CrO2"] = mid
        filled.orders["CrO2"] = store.add_result(mid, analyze(cro2))
        for name, data in (
            ("MnF2", recorded_search("mnf2", mnf2())),
            ("CrO2", recorded_search("cro2", cro2)),
        ):
            job = store.add_dft_job(
                filled.materials[name], "qe", parameters={"kind": "groundstate"}
            )
            store.set_dft_result(job, data, None)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, FilledStore]]:
    home = tmp_path_factory.mktemp("optimade")
    filled = fill_store(f"sqlite:///{home / 'altermag.db'}")
    add_ground_state_searches(filled)
    server = ApiServer(filled.url, home)
    yield server, filled
    server.stop()


def _structures(server: ApiServer, flt: str, **params: object) -> dict:
    r = httpx.get(
        f"{server.url}/optimade/v1/structures", params={"filter": flt, **params}, timeout=30
    )
    assert r.status_code == 200, r.text
    return r.json()


def _ids(doc: dict) -> set[str]:
    return {d["id"] for d in doc["data"]}


def test_the_optimade_validator_passes(served: tuple[ApiServer, FilledStore]) -> None:
    """optimade-python-tools' ImplementationValidator, every mandatory test and the optional
    ones, against the running server."""
    from optimade.validator import ImplementationValidator

    server, _ = served
    random.seed(0)  # the validator picks a random entry to build its filters from
    validator = ImplementationValidator(base_url=f"{server.url}/optimade", verbosity=-1)
    validator.validate_implementation()
    results = validator.results
    assert validator.valid, results.failure_messages + results.internal_failure_messages
    assert results.success_count >= 40 and results.failure_count == 0
    # the only optional complaint allowed: the store holds no bibliographic references
    assert all("references" in m[1] for m in results.optional_failure_messages)


def test_reduced_formula_filters_compare_formulas(served: tuple[ApiServer, FilledStore]) -> None:
    server, filled = served
    mnf2 = {str(o) for o in filled.orders["MnF2"]}
    assert _ids(_structures(server, 'chemical_formula_reduced="F2Mn"')) == mnf2
    assert _ids(_structures(server, 'chemical_formula_reduced="MnF2"')) == mnf2  # any order
    assert _ids(_structures(server, 'chemical_formula_descriptive="F2Mn"')) == mnf2
    entry = _structures(server, 'chemical_formula_reduced="F2Mn"')["data"][0]["attributes"]
    assert entry["chemical_formula_reduced"] == "F2Mn"
    assert entry["chemical_formula_anonymous"] == "A2B"
    cr2o3 = _structures(server, 'chemical_formula_anonymous="A3B2" AND elements HAS "Cr"')
    assert cr2o3["meta"]["data_returned"] == len(filled.orders["Cr2O3-bare"])
    # the REST API's formula filter too
    rest = httpx.get(f"{server.url}/candidates", params={"formula": "F2Mn"}, timeout=30).json()
    assert {c["order_id"] for c in rest["items"]} == set(filled.orders["MnF2"])


def test_provider_fields_carry_the_classification(served: tuple[ApiServer, FilledStore]) -> None:
    server, filled = served
    g_wave = _structures(server, '_altermag_verdict="altermagnet" AND _altermag_wave="g"')
    formulas = {d["attributes"]["chemical_formula_descriptive"] for d in g_wave["data"]}
    assert formulas == {"MnTe", "CrSb", "Cr2O3"}  # Cr2O3: its enumerated hematite-type order
    confirmed = _structures(server, '_altermag_dft_status="confirmed"')["data"]
    assert [d["id"] for d in confirmed] == [str(filled.orders["MnF2"][0])]
    attrs = confirmed[0]["attributes"]
    assert attrs["_altermag_spin_laue_group"] == "²4/¹m²m¹m"
    assert attrs["_altermag_form_factor"] == "kx*ky"
    assert attrs["_altermag_dft_splitting_ev"] == pytest.approx(0.48)
    assert attrs["_altermag_probability"] == pytest.approx(0.91)
    assert attrs["_altermag_magnetic_space_group"] == "P4_2'/mnm' (136.499)"
    assert attrs["_altermag_magnetic_moments"] == [4.6, -4.6, 0, 0, 0, 0]
    report = httpx.get(server.url + attrs["_altermag_report"], timeout=60)
    assert report.status_code == 200 and "MnF2" in report.text
    # MnF2 and MnTe by their model scores; La2CuO4 has no model score and its published order
    # is given with the structure: an altermagnet (d-wave) stored with P = 1, as files rank it
    likely = _structures(server, "_altermag_probability >= 0.8")
    assert {d["attributes"]["chemical_formula_descriptive"] for d in likely["data"]} == {
        "MnF2",
        "MnTe",
        "La2CuO4",
    }
    info = httpx.get(f"{server.url}/optimade/v1/info/structures", timeout=30).json()
    assert info["data"]["properties"]["_altermag_dft_splitting_ev"]["unit"] == "eV"


def test_enumerated_orders_are_put_on_the_given_cell(served: tuple[ApiServer, FilledStore]) -> None:
    """Cr2O3 was given as its 30-site hexagonal cell; its orders were enumerated on the
    10-site primitive cell. The hematite-type (g-wave) order comes back on all 30 sites."""
    server, _ = served
    doc = _structures(server, 'chemical_formula_reduced="Cr2O3" AND _altermag_wave="g"')
    (entry,) = doc["data"]
    attrs = entry["attributes"]
    moments = attrs["_altermag_magnetic_moments"]
    assert attrs["nsites"] == len(moments) == 30 and attrs["_altermag_enumerated"] is True
    cr = [m for m, el in zip(moments, attrs["species_at_sites"], strict=True) if el == "Cr"]
    assert sorted(cr) == [-1.0] * 6 + [1.0] * 6

    lattice = np.array(attrs["lattice_vectors"])
    positions = np.array(attrs["cartesian_site_positions"]) @ np.linalg.inv(lattice)
    s = MagneticStructure(lattice, attrs["species_at_sites"], positions, [3 * m for m in moments])
    assert (analyze(s).verdict, analyze(s).wave) == ("altermagnet", "g")


def test_filters_the_store_cannot_run_are_501_and_typos_400(
    served: tuple[ApiServer, FilledStore],
) -> None:
    server, _ = served
    base = f"{server.url}/optimade/v1/structures"
    assert httpx.get(base, params={"filter": "lattice_vectors HAS 1"}).status_code == 501
    assert httpx.get(base, params={"filter": "nsitez > 2"}).status_code == 400
    other = httpx.get(base, params={"filter": "_mp_stability < 0.1"})  # another provider's
    assert other.status_code == 200 and other.json()["data"] == []
    assert httpx.get(f"{server.url}/optimade/v9/info").status_code == 553


def test_optimade_clients_read_it(served: tuple[ApiServer, FilledStore], tmp_path: Path) -> None:
    """altermag's own OPTIMADE source pages through the endpoint like any provider."""
    from altermag.sources.optimade import OptimadeSource

    server, _ = served
    src = OptimadeSource(
        f"{server.url}/optimade", filter='_altermag_verdict="altermagnet"', page_limit=2
    )
    pages = list(src.pages())
    records = [r for p in pages for r in p.records]
    assert len(pages) > 1
    assert {r.structure.formula for r in records} >= {"MnF2", "MnTe", "CrSb", "RuO2", "La2CuO4"}


def test_the_dft_ground_state_search_is_a_queryable_field(
    served: tuple[ApiServer, FilledStore],
) -> None:
    """A material's DFT ground-state search on each of its orders: MnF2's altermagnetic
    ground state with its positive margin, CrO2's ferromagnetic one with its best
    altermagnetic order above it (negative margin); materials without a search: null."""
    server, filled = served
    info = httpx.get(f"{server.url}/optimade/v1/info/structures", timeout=30).json()
    props = info["data"]["properties"]
    assert props["_altermag_dft_ground_state"]["type"] == "string"
    assert props["_altermag_dft_am_margin_mev"]["type"] == "float"
    assert props["_altermag_dft_am_margin_mev"]["unit"] == "meV"
    mnf2_gs = recorded_search("mnf2", mnf2())["ground_state"]
    cro2_search = recorded_search("cro2", _cro2())
    cro2_am = next(o for o in cro2_search["orders"] if o["verdict"] == "altermagnet")
    margins = {
        "MnF2": mnf2_gs["margin_mev_per_magnetic_atom"],
        "CrO2": -cro2_am["relative_energy_mev_per_magnetic_atom"],
    }
    assert margins["MnF2"] > 0 > margins["CrO2"]  # the physics of the recordings
    for name, verdict in (("MnF2", "altermagnet"), ("CrO2", "ferromagnet")):
        doc = _structures(server, f'_altermag_dft_ground_state="{verdict}"')
        assert _ids(doc) == {str(o) for o in filled.orders[name]}
        for d in doc["data"]:
            assert d["attributes"]["_altermag_dft_am_margin_mev"] == pytest.approx(margins[name])
    above = _structures(server, f"_altermag_dft_am_margin_mev > {margins['CrO2'] + 1}")
    assert _ids(above) == {str(o) for o in filled.orders["MnF2"]}
    ranked = _structures(
        server, "_altermag_dft_am_margin_mev IS KNOWN", sort="-_altermag_dft_am_margin_mev"
    )
    n_mnf2 = len(filled.orders["MnF2"])
    assert [d["id"] for d in ranked["data"]][:n_mnf2] == [str(o) for o in filled.orders["MnF2"]]
    searched = {str(o) for name in margins for o in filled.orders[name]}
    unknown = _structures(server, "_altermag_dft_ground_state IS UNKNOWN", page_limit=500)
    every = _structures(server, "nelements > 0", page_limit=500)
    assert not unknown["meta"]["more_data_available"] and not every["meta"]["more_data_available"]
    assert _ids(unknown) == _ids(every) - searched and searched <= _ids(every)
    assert all(d["attributes"]["_altermag_dft_ground_state"] is None for d in unknown["data"])

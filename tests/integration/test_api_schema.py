"""Schemathesis over the generated OpenAPI document, in-process (ASGI), on SQLite and
PostgreSQL, with a valid ``write`` key and with an ``admin`` key: generated requests — one
operation at a time and stateful sequences following the links Schemathesis infers between
operations — never get a 5xx nor take longer than a bound, and every response passes every
built-in check (status codes, content types, headers and bodies match the schema, invalid
data is rejected, valid data accepted, deleted resources stay deleted...)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from altermag_api.app import create_app
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from sqlalchemy import delete, update

from altermag.store import Store
from altermag.store.models import ApiKey, ScreeningRun
from altermag.symmetry import analyze
from tests import literature

EXAMPLES_PER_OPERATION = 6
STATEFUL_EXAMPLES = 6
STATEFUL_STEPS = 6
ANSWER_BOUND_S = 30.0
"""A request answered later than this counts as a timeout."""

OPAQUE_INPUTS = {
    "/candidates": ["400"],  # a cursor the server did not issue (the schema says: a string)
    "/analyze": ["413", "415", "422"],  # file contents: not a structure, or beyond the limits
    "/screenings": ["422"],  # source options: each source has its own (the schema: an object)
}
"""Statuses a schema-valid request may get where the schema cannot describe the input."""


def _config() -> SchemathesisConfig:
    """Every check enabled; positive-data acceptance also admits :data:`OPAQUE_INPUTS`."""
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "429"]  # Schemathesis' less 5xx
    return SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": accepted}},
            "operations": [
                {
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*accepted, *extra]}
                    },
                }
                for path, extra in OPAQUE_INPUTS.items()
            ],
        }
    )


#: The schema of the app, a key of the scope, and what restores the seeded store.
Scoped = tuple[Any, str, Callable[[], None]]


@pytest.fixture(params=["write", "admin"])
def scoped(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Scoped:
    """The schema of an app over a store with three known magnets, a key of the scope, and a
    function that brings the store back to that state."""
    with Store(db_url) as store:
        run_id = store.start_run("literature")
        for build in (literature.mnf2, literature.cr2o3, literature.crsb):
            s = build()
            store.add_analysis(
                s, analyze(s), source="literature", run_id=run_id, input_ref=s.label or s.formula
            )
        store.finish_run(run_id)
        name = f"schemathesis-{request.param}"
        key = store.create_api_key(name, request.param)
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path / "out")
    app.state.background = AcceptedScreenings()

    def restore() -> None:
        """Undo what requests may have done (keys created or revoked, screenings opened), in
        one write transaction (so the revision moves on and no cached view survives)."""
        with app.state.store.db.session() as session:
            session.execute(delete(ApiKey).where(ApiKey.name != name))
            session.execute(update(ApiKey).where(ApiKey.name == name).values(revoked_at=None))
            session.execute(delete(ScreeningRun).where(ScreeningRun.id != run_id))

    return schemathesis.openapi.from_asgi("/openapi.json", app, config=_config()), key, restore


class AcceptedScreenings:
    """The screening launcher, recording what it is given instead of screening: here the
    HTTP contract is under test (a generated ``POST /screenings`` may ask for the whole
    embedded corpus); running screenings is ``tests/integration/test_api.py``'s."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def start(self) -> None:
        pass

    def check_capacity(self, store: Any) -> None:
        pass

    def submit(self, run_id: int, key: str, request: Any) -> None:
        self.submitted.append(run_id)

    def shutdown(self, timeout: float = 0.0) -> None:
        pass


TIMES: dict[str, list[float]] = {}


def _checked(case: schemathesis.Case, key: str, **kwargs: Any) -> None:
    start = time.monotonic()
    response = case.call(headers={"X-API-Key": key}, **kwargs)
    elapsed = time.monotonic() - start
    TIMES.setdefault(f"{case.method} {case.path}", []).append(elapsed)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert elapsed < ANSWER_BOUND_S, (case.method, case.path, f"{elapsed:.1f} s")
    case.validate_response(response, headers={"X-API-Key": key})


def test_no_server_error_and_every_check_passes(scoped: Scoped) -> None:
    schema, key, _ = scoped
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            _checked(case, key)

        check()
    slowest = sorted(TIMES.items(), key=lambda kv: -sum(kv[1]))[:5]
    print("slowest operations:", [(k, len(v), round(sum(v), 1)) for k, v in slowest])


def test_stateful_sequences_never_fail(scoped: Scoped) -> None:
    """Each scenario starts from the seeded store: Hypothesis replays and extends earlier
    scenarios, and draws differently when the answers differ (a key name taken by an earlier
    scenario is a 409), which it reports as a flaky strategy instead of testing the API."""
    schema, key, restore = scoped
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            restore()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": {"X-API-Key": key}}

        def validate_response(self, response: Any, case: schemathesis.Case, **kw: Any) -> None:
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            assert response.elapsed < ANSWER_BOUND_S  # seconds
            super().validate_response(response, case, **kw)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )

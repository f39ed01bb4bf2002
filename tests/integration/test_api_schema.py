"""Schemathesis over the generated OpenAPI document, in-process (ASGI), on SQLite and
PostgreSQL: generated requests never get a 5xx, and every response matches the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from altermag_api.app import create_app
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from altermag.store import Store
from altermag.symmetry import analyze
from tests import literature


@pytest.fixture
def api_schema(db_url: str, tmp_path: Path) -> schemathesis.BaseSchema:
    with Store(db_url) as store:
        run_id = store.start_run("literature")
        for build in (literature.mnf2, literature.cr2o3, literature.crsb):
            s = build()
            store.add_analysis(
                s, analyze(s), source="literature", run_id=run_id, input_ref=s.label or s.formula
            )
        store.finish_run(run_id)
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path / "out")
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_server_error_and_responses_match_the_schema(
    api_schema: schemathesis.BaseSchema,
) -> None:
    checks = (status_code_conformance, content_type_conformance, response_schema_conformance)
    operations = [op.ok() for op in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            case.validate_response(response, checks=checks)

        check()

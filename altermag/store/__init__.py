"""The screening store: SQLAlchemy 2 models, Alembic migrations and repositories by aggregate.

:class:`Store` holds one repository per aggregate (``store.materials``, ``store.orders``,
``store.scores``, ``store.screening_runs``, ``store.dft_jobs``, ``store.keys``) and
``store.ingest`` for chunks of analysed inputs; its flat methods (below) delegate to them.

SQLite file by default (``altermag.db`` in ``$ALTERMAG_HOME``, the working directory),
PostgreSQL by URL (``postgresql+psycopg://user@host/db``); the URL comes from the caller or
``$ALTERMAG_DATABASE_URL``. Typical use by a flow::

    store = Store()                                   # migrates to the newest schema
    run_id = store.start_run("local:/data/cifs", {"symprec": 0.1})
    store.add_analysis(structure, result, source="local", source_id=name,
                       run_id=run_id, input_ref=path)
    store.record_error(run_id, bad_path, "empty file")
    store.finish_run(run_id)
    page = store.candidates(verdict="altermagnet", elements=["Mn"], sort="score", limit=20)

The names below are loaded on first use (:pep:`562`): a process that only reads records
(``altermag.store.records``, as a screening's pool workers do to draw material pages) does
not import SQLAlchemy and the repositories.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from altermag.store.candidates import (
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
        SORTS,
        CandidateQuery,
    )
    from altermag.store.dft_jobs import DFT_STATUSES, DftJobRepository
    from altermag.store.engine import DB_FILE, ENV_VAR, database_url, make_engine
    from altermag.store.ingest import AnalysisItem, Ingest
    from altermag.store.keys import ApiKeyRepository, hash_api_key
    from altermag.store.maintenance import Vacuumed, vacuum
    from altermag.store.materials import MaterialRepository
    from altermag.store.migrate import (
        create_schema,
        current_revision,
        downgrade,
        head,
        upgrade,
    )
    from altermag.store.orders import (
        OrderRepository,
        moments_key,
        result_settings,
        settings_hash,
    )
    from altermag.store.records import (
        ApiKeyRecord,
        Candidate,
        CandidatePage,
        DftJobRecord,
        MaterialRecord,
        OrderRecord,
        RunItemRecord,
        RunRecord,
        ScoreRecord,
        StoredAnalysis,
    )
    from altermag.store.repository import Store
    from altermag.store.runs import RUN_STATUSES, RunRepository
    from altermag.store.scores import ScoreRepository

#: The submodules the public names (``__all__``) come from, each listing its own in its
#: ``__all__``: the records first (no SQLAlchemy), then the repository, which imports the rest.
_SUBMODULES = (
    "records",
    "repository",
    "candidates",
    "dft_jobs",
    "engine",
    "ingest",
    "keys",
    "materials",
    "migrate",
    "orders",
    "runs",
    "scores",
    "maintenance",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for sub in _SUBMODULES:
            module = importlib.import_module(f"{__name__}.{sub}")
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value  # later lookups skip this function
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DB_FILE",
    "DEFAULT_PAGE_SIZE",
    "DFT_STATUSES",
    "ENV_VAR",
    "MAX_PAGE_SIZE",
    "RUN_STATUSES",
    "SORTS",
    "AnalysisItem",
    "ApiKeyRecord",
    "ApiKeyRepository",
    "Candidate",
    "CandidatePage",
    "CandidateQuery",
    "DftJobRecord",
    "DftJobRepository",
    "Ingest",
    "MaterialRecord",
    "MaterialRepository",
    "OrderRecord",
    "OrderRepository",
    "RunItemRecord",
    "RunRecord",
    "RunRepository",
    "ScoreRecord",
    "ScoreRepository",
    "Store",
    "StoredAnalysis",
    "Vacuumed",
    "create_schema",
    "current_revision",
    "database_url",
    "downgrade",
    "hash_api_key",
    "head",
    "make_engine",
    "moments_key",
    "result_settings",
    "settings_hash",
    "upgrade",
    "vacuum",
]

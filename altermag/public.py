"""What the public may see of a screening run: no server paths, keys or cursors.

``GET /screenings/{id}`` and the run report pages are readable without a key. A run's stored
record holds what only the server should know: the folders a ``local``/``magndata`` source
read, the resume key, the source cursor (a provider URL or a file index) and error messages
that name files by their absolute path. :func:`public_run` keeps the same record shape with
those removed: options keep only their harmless keys, absolute paths in messages are cut to
the file name, the key and cursor are dropped.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from altermag.store.records import RunItemRecord, RunRecord

__all__ = ["PUBLIC_OPTIONS", "public_run", "scrub_paths"]

PUBLIC_OPTIONS = frozenset({"base_url", "filter", "mode", "elements", "which", "extra_fields"})
"""Source options shown to the public (never ``path``, headers or keys)."""

_PATH = re.compile(r"(?<![\w.:/])(?:~|\.\.?)?/(?:[^\s/'\"():,;]+/)*([^\s/'\"():,;]+)/?")
"""An absolute (or ``./``, ``../``, ``~/``) POSIX path; group 1 is its last part. URLs
(``scheme://host/...``) are left alone by the look-behind."""


def scrub_paths(text: str) -> str:
    """``text`` with every file-system path cut to its last part (``/srv/x/a.cif`` → ``a.cif``)."""
    return _PATH.sub(lambda m: m.group(1) or "…", str(text))


def _options(options: Any) -> dict[str, Any]:
    if not isinstance(options, dict):
        return {}
    return {k: v for k, v in options.items() if k in PUBLIC_OPTIONS}


def public_run(run: RunRecord) -> RunRecord:
    """The run as the public may see it (see the module)."""
    params = dict(run.parameters or {})
    shown: dict[str, Any] = {k: params[k] for k in ("settings", "limit") if k in params}
    shown["options"] = _options(params.get("options"))
    return dataclasses.replace(
        run,
        key=None,
        parameters=shown,
        errors=[scrub_paths(str(e)) for e in run.errors],
        source_cursor=None,
        failed_inputs=[
            RunItemRecord(
                scrub_paths(i.input_ref), i.material_id, scrub_paths(i.error) if i.error else None
            )
            for i in run.failed_inputs
        ],
    )

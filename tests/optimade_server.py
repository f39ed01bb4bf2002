"""Run the OPTIMADE reference server (optimade-python-tools) on loopback for tests.

Usage: ``python tests/optimade_server.py JSONL PORT [--prefix mp] [--provider-field NAME ...]``.
The JSONL file is loaded into an in-memory (mongomock) database at start, so a restarted
server serves exactly the same entries.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, entries: list[tuple[str, Any, dict[str, Any]]]) -> None:
    """Write (id, pymatgen Structure, extra attributes) as an OPTIMADE JSONL file."""
    from optimade.adapters.structures.pymatgen import from_pymatgen

    lines = [json.dumps({"x-optimade": {"meta": {"api_version": "1.1.0"}}})]
    for entry_id, structure, extra in entries:
        attrs = from_pymatgen(structure).model_dump(mode="json")
        attrs["last_modified"] = "2026-01-01T00:00:00Z"
        attrs.update(extra)
        lines.append(json.dumps({"type": "structures", "id": entry_id, "attributes": attrs}))
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("jsonl", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--prefix", default="altermagtest")
    parser.add_argument("--provider-field", action="append", default=[])
    parser.add_argument("--page-limit", type=int, default=20)
    args = parser.parse_args()
    # no config file from the home folder, no network look-ups of the providers list
    os.environ["OPTIMADE_CONFIG_FILE"] = str(Path(tempfile.mkdtemp()) / "none.json")
    import uvicorn
    from optimade.server.config import ServerConfig
    from optimade.server.create_app import create_app

    config = ServerConfig(
        insert_test_data=False,
        insert_from_jsonl=str(args.jsonl.resolve()),
        database_backend="mongomock",
        base_url=f"http://127.0.0.1:{args.port}",
        page_limit=args.page_limit,
        provider={
            "prefix": args.prefix,
            "name": "altermag test provider",
            "description": "loopback test server",
            "homepage": "http://127.0.0.1",
        },
        provider_fields={"structures": list(args.provider_field)},
    )
    app = create_app(config)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""Every example in README.md and docs/*.md runs, from the repository root, with the files the
repository ships.

Shell examples (``$ altermag …`` in ``console`` blocks, ``altermag …`` lines in ``bash`` and
plain blocks) run with bash in a scratch folder that mirrors the repository root (its
top-level entries linked, outputs written beside them), in document order, so a page reads
as one session; Python blocks that start with an import run in a fresh interpreter there.
An example that cannot run offline or takes more than a few minutes is listed in ``SKIP``
with the reason, and every entry of ``SKIP`` must still match an example.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SKIP: dict[str, str] = {
    r"https?://(?!127\.0\.0\.1|localhost)": "needs the network (an OPTIMADE provider)",
    r"MP_API_KEY": "needs a Materials Project API key",
    r"magndata\.zip|magndata_mcif\.zip|--source magndata": "MAGNDATA files are not shipped "
    "(licence); point ALTERMAG_MAGNDATA_DIR at your copy",
    r"^altermag api\b": "starts a server that runs until stopped (tests/integration/test_api.py)",
    r"^altermag serve-flows": "serves Prefect deployments until stopped "
    "(tests/integration/test_deployment.py)",
    r"^altermag run\b|^altermag screen\s*(#|$)": "screens the 5,959 embedded structures "
    "(minutes; tests/e2e/test_run_report.py)",
    r"^altermag dft run|^altermag dft verify|^altermag discover": "runs pw.x for minutes "
    "(tests/integration/test_dft_qe_run.py, tests/e2e/test_dft_verify.py)",
    r"^altermag dft groundstate": "runs pw.x once per order for minutes "
    "(tests/integration/test_groundstate_qe.py; decks only: tests/unit/test_groundstate.py)",
    r"^altermag train": "retrains the prior from the MAGNDATA folder (~15 min; "
    "tests/integration/test_prior_magndata.py)",
    r"^altermag data build-corpus\s*(#|$)": "rebuilds the whole corpus (minutes)",
    r"postgresql\+psycopg://(?!postgres@127)": "needs the user's PostgreSQL server",
    r"--resume": "continues an interrupted network fetch",
    r"from alembic import command": "writes a migration into the source tree",
    r"from jobflow import": "jobflow is not an altermag dependency (its serialisation is "
    "checked in tests/unit/test_interop_python.py)",
    r"127\.0\.0\.1:8000": "talks to a running `altermag api` (tests/integration/"
    "test_optimade.py and test_browser.py do, on a real server)",
    r"dft parse runs/mnte/vasp": "needs the outputs of a VASP run on a cluster (recorded "
    "ones: tests/data/vasp, tests/recorded/test_dft_vasp_parse.py)",
}


@dataclass
class Example:
    page: Path
    line: int
    kind: str  # "shell" or "python"
    text: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}: {self.text.splitlines()[0]}"


def _blocks(page: Path):
    lang, start, body = None, 0, []
    for number, line in enumerate(page.read_text().splitlines(), 1):
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence and lang is None:
            lang, start, body = fence.group(1) or "plain", number, []
        elif line.startswith("```") and lang is not None:
            yield lang, start, body
            lang = None
        elif lang is not None:
            body.append(line)


def examples() -> list[Example]:
    out: list[Example] = []
    for page in PAGES:
        for lang, start, body in _blocks(page):
            if lang == "python":
                text = "\n".join(body)
                if re.match(r"\s*(from|import) ", text):
                    out.append(Example(page, start + 1, "python", text))
                continue
            if lang not in ("console", "bash", "plain", "sh", "shell"):
                continue
            i = 0
            while i < len(body):
                line = body[i]
                is_cmd = (
                    line.startswith("$ ") if lang == "console" else line.startswith("altermag ")
                )
                if not is_cmd:
                    i += 1
                    continue
                command, first = line.removeprefix("$ "), i
                while command.rstrip().endswith("\\") and i + 1 < len(body):
                    i += 1
                    command += "\n" + body[i]
                out.append(Example(page, start + 1 + first, "shell", command))
                i += 1
    return out


EXAMPLES = examples()


def _skip_reason(example: Example) -> str | None:
    for pattern, reason in SKIP.items():
        if re.search(pattern, example.text, re.MULTILINE):
            return reason
    return None


def test_every_skip_reason_is_still_used() -> None:
    unused = [p for p in SKIP if not any(re.search(p, e.text, re.M) for e in EXAMPLES)]
    assert unused == []
    assert len(EXAMPLES) > 40


@pytest.fixture
def root_mirror(tmp_path: Path) -> Path:
    """A scratch folder whose entries are the repository's (linked): paths in examples
    resolve as from the root, outputs stay out of the checkout. One per page."""
    mirror = tmp_path / "repo-root"
    mirror.mkdir()
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in ("altermag.db", "candidates", "reports"):
            continue
        (mirror / entry.name).symlink_to(entry)
    return mirror


def _env(mirror: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTERMAG_")}
    env.update(
        ALTERMAG_HOME=str(mirror),
        COLUMNS="120",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(str(ROOT / p) for p in ("", "api", "flows")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # a temporary Prefect server on a loaded machine can take longer than the default
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_examples_of_a_page_run(page: Path, root_mirror: Path) -> None:
    failures = []
    ran = 0
    for example in (e for e in EXAMPLES if e.page == page):
        if _skip_reason(example):
            continue
        if example.kind == "shell":
            cmd = ["bash", "-euo", "pipefail", "-c", example.text]
        else:
            cmd = [sys.executable, "-c", example.text]
        proc = subprocess.run(
            cmd,
            cwd=root_mirror,
            env=_env(root_mirror),
            capture_output=True,
            text=True,
            timeout=600,
        )
        ran += 1
        if proc.returncode != 0:
            failures.append(f"{example}\n  exit {proc.returncode}: {proc.stderr[-1500:]}")
    assert failures == [], "\n".join(failures)

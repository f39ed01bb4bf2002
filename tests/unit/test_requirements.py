"""The ``requires`` helper: a missing tool skips a test here and fails it under CI (an error
at setup: the test never runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.requirements import TOOLS, need
TOOLS["absent-tool"] = lambda: "absent-tool is not installed"
TOOLS["present-tool"] = lambda: None

def pytest_configure(config):
    config.addinivalue_line("markers", "requires(*tools): needs these tools")

def pytest_runtest_setup(item):
    for mark in item.iter_markers("requires"):
        need(*mark.args)
"""

TESTS = """
import pytest
from tests.requirements import requires

@requires("absent-tool")
def test_needs_the_absent_tool():
    pass

@requires("present-tool")
def test_needs_the_present_tool():
    pass
"""


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "errors")])
def test_missing_tool_skips_here_and_fails_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, **{outcome: 1})
    result.stdout.fnmatch_lines(["*absent-tool is not installed*"])


def test_an_unknown_requirement_is_refused() -> None:
    from tests.requirements import requires

    with pytest.raises(KeyError, match="unknown requirement"):
        requires("pw.y")

"""Where a running pw.x is, read from its text output as it grows.

pw.x prints every SCF iteration (``iteration #  7``, ``estimated scf accuracy < 3.2E-05 Ry``,
``total energy = ...``), every k-point of a non-self-consistent step (``Computing kpt #: 12
of 98``), the ionic steps of a relaxation (``number of bfgs steps = 3``) and ``JOB DONE.``
:class:`PwProgress` follows those lines incrementally (feed it the new text, it never rereads
the file), so a progress display can poll a long output cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PwProgress", "PwStatus"]

_FLOAT = r"([-+]?\d+\.?\d*(?:[EeDd][-+]?\d+)?)"
_PATTERNS = {
    "scf_start": re.compile(r"Self-consistent Calculation"),
    "bands_start": re.compile(r"Band Structure Calculation"),
    "iteration": re.compile(r"iteration #\s*(\d+)"),
    "accuracy": re.compile(r"estimated scf accuracy\s*<\s*" + _FLOAT),
    "energy": re.compile(r"^\s*!?\s*total energy\s*=\s*" + _FLOAT + r"\s*Ry"),
    "kpoint": re.compile(r"Computing kpt #:\s*(\d+)(?:\s+of\s+(\d+))?"),
    "converged": re.compile(r"convergence has been achieved in\s+(\d+)\s+iterations"),
    "not_converged": re.compile(r"convergence NOT achieved"),
    "bfgs": re.compile(r"number of bfgs steps\s*=\s*(\d+)"),
    "done": re.compile(r"JOB DONE\."),
    "error": re.compile(r"^\s*Error in routine\s+(.*)$"),
}


def _float(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


@dataclass
class PwStatus:
    """The state of one pw.x run as far as its output shows it."""

    calculation: str | None = None
    """``scf`` or ``bands`` (non-self-consistent), from the banner pw.x prints."""
    scf_iteration: int | None = None
    scf_accuracy_ry: float | None = None
    """Latest "estimated scf accuracy" (Ry); converged when below ``conv_thr``."""
    total_energy_ry: float | None = None
    kpoint: int | None = None
    """k-point being computed by a non-self-consistent step (spin channels counted apart)."""
    n_kpoints: int | None = None
    """Their number, when pw.x prints it (``of 98``)."""
    ionic_step: int | None = None
    """Completed BFGS steps of a relaxation."""
    converged: bool | None = None
    done: bool = False
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One short line for a progress display, e.g. ``iteration 7 · accuracy 3.2e-05 Ry ·
        E -662.39223 Ry`` or ``k-point 46/98``."""
        parts: list[str] = []
        if self.ionic_step is not None:
            parts.append(f"ionic step {self.ionic_step + 1}")
        if self.calculation == "bands" and self.kpoint is not None:
            parts.append(
                f"k-point {self.kpoint}" + (f"/{self.n_kpoints}" if self.n_kpoints else "")
            )
        elif self.scf_iteration is not None:
            parts.append(f"iteration {self.scf_iteration}")
            if self.scf_accuracy_ry is not None:
                parts.append(f"accuracy {self.scf_accuracy_ry:.1e} Ry")
            if self.total_energy_ry is not None:
                parts.append(f"E {self.total_energy_ry:.5f} Ry")
        if self.converged:
            parts.append("converged")
        elif self.converged is False:
            parts.append("NOT converged")
        if self.errors:
            parts.append("error: " + self.errors[-1])
        elif self.done and not self.converged:
            parts.append("done")
        return " · ".join(parts) or "starting"


class PwProgress:
    """Incremental reader of one pw.x output (feed it text as the file grows)."""

    def __init__(self) -> None:
        self.status = PwStatus()
        self._partial = ""

    def feed(self, text: str) -> PwStatus:
        """Take the next chunk of output; complete lines are parsed, a trailing partial line
        waits for the rest."""
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line)
        return self.status

    def _line(self, line: str) -> None:
        s, p = self.status, _PATTERNS
        if p["scf_start"].search(line):
            s.calculation, s.scf_iteration, s.converged = "scf", None, None
        elif p["bands_start"].search(line):
            s.calculation = "bands"
        elif m := p["iteration"].search(line):
            s.scf_iteration = int(m.group(1))
        elif m := p["accuracy"].search(line):
            s.scf_accuracy_ry = _float(m.group(1))
        elif m := p["energy"].search(line):
            s.total_energy_ry = _float(m.group(1))
        elif m := p["kpoint"].search(line):
            s.kpoint = int(m.group(1))
            if m.group(2):
                s.n_kpoints = int(m.group(2))
        elif m := p["converged"].search(line):
            s.converged = True
        elif p["not_converged"].search(line):
            s.converged = False
        elif m := p["bfgs"].search(line):
            s.ionic_step = int(m.group(1))
        elif p["done"].search(line):
            s.done = True
        elif m := p["error"].search(line):
            s.errors.append(m.group(1).strip())

    @classmethod
    def of_file(cls, path: Path) -> PwStatus:
        """The status of a finished (or partial) output file."""
        return cls().feed(Path(path).read_text(errors="replace") + "\n")

"""One exception hierarchy for everything altermag reports to a user.

:class:`AltermagError` is what a caller catches to tell a user's mistake (a bad file, an
unknown preset, a structure too large for the service, DFT outputs that do not belong to the
deck) from a bug. The command line prints its message and exits 1; the REST API answers it
with a 4xx status and the message (:attr:`AltermagError.status`), while any other exception
is a bug: a 500, logged with its traceback.

Each stage has its own branch, so a caller can be as specific as it needs::

    AltermagError
    ├── InputError          a structure or file that cannot be read (422)
    │   └── LimitError      an input larger than the configured limits (413)
    ├── AnalysisError       the spin-group analysis cannot answer for this input (422)
    ├── SettingsError       unknown or invalid settings, presets, options (422)
    ├── SourceError         a data source cannot be read or is not allowed (422)
    ├── ModelError          a learned model or its checkpoint cannot be used (422)
    ├── DftError            DFT inputs, runs, outputs, schedulers
    └── StoreError          the store cannot do what was asked (409)

Subclasses elsewhere also derive from the built-in class they always were (``ValueError``,
``LookupError``, ``RuntimeError``), so existing ``except ValueError`` handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "PARSER_ERRORS",
    "AltermagError",
    "AnalysisError",
    "DftError",
    "InputError",
    "LimitError",
    "ModelError",
    "SettingsError",
    "SourceError",
    "StoreError",
]


class AltermagError(Exception):
    """Base of every error altermag reports to a user (not a bug)."""

    status: int = 422
    """The HTTP status the REST API answers with."""


class InputError(AltermagError, ValueError):
    """A structure or file that cannot be read: empty, truncated, malformed, inconsistent."""


class LimitError(InputError):
    """An input larger than the configured limits (atoms, operations, moments, bytes)."""

    status = 413


class AnalysisError(AltermagError, ValueError):
    """The spin-group analysis cannot answer for this input."""


class SettingsError(AltermagError, ValueError):
    """Unknown or invalid settings, presets or options."""


class SourceError(AltermagError, RuntimeError):
    """A data source cannot be read, answered with an error, or is not allowed."""


class ModelError(AltermagError, RuntimeError):
    """A learned model or its checkpoint cannot be used."""


class DftError(AltermagError):
    """DFT inputs, runs, outputs or schedulers."""


class StoreError(AltermagError):
    """The store cannot do what was asked (e.g. a name that already exists)."""

    status = 409


PARSER_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RuntimeError,
    SyntaxError,
    UserWarning,
    OSError,
)
"""What third-party file parsers (pymatgen, ASE, lxml) raise on a malformed or truncated file.

Found by feeding them corrupted copies of real files (CIF, mCIF, POSCAR, extended XYZ,
EIGENVAL, OUTCAR, KPOINTS, vasprun.xml, pymatgen JSON): ``ValueError``,
``IndexError``/``KeyError``, ``TypeError``, ``AttributeError`` (pymatgen's ``from_dict`` on
a dict of the wrong shape), ``ZeroDivisionError``, ``RuntimeError``, lxml's ``XMLSyntaxError`` (a
``SyntaxError``), pymatgen's ``BadPoscarWarning`` (raised, not warned) and ``OSError``
(ASE's ``XYZError``, unreadable files). A reader catches exactly these around the parser call
and raises the :class:`InputError` or :class:`DftError` that names the file; anything else
escaping a parser is a bug and keeps its traceback.
"""

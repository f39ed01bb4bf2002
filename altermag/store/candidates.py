"""The candidate query: filters, sort keys and keyset (cursor) pagination.

A candidate is one stored magnetic order joined with its material and, when the material has
been scored, with the score of one model version. Pages are cut by *keyset* pagination: the
cursor holds the sort value and the order id of the last row of a page, and the next page
starts strictly after that pair, so rows inserted meanwhile never shift a page and no row is
returned twice or skipped. Sort values are compared by the database itself (formulas with
byte-wise collation on PostgreSQL, as on SQLite), so the page boundaries are exact.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    LargeBinary,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from altermag.errors import InputError, SettingsError
from altermag.formulas import normalise_formula
from altermag.store.models import (
    MISSING_SCORE,
    MagneticOrder,
    Material,
    ModelScore,
    RunItem,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MISSING_SCORE",
    "SORTS",
    "CandidateQuery",
    "decode_cursor",
    "encode_cursor",
    "order_cap",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
SORTS: dict[str, str] = {
    "score": "P(altermagnetic ground state), highest first (unscored last)",
    "dft_splitting": "largest DFT spin splitting, highest first (no DFT result last)",
    "dft_ground_state": "DFT ground state: altermagnetic ground states first, by their margin "
    "over the next order, then the rest by how far their best altermagnetic order lies above "
    "the ground state (no search last)",
    "heuristic_score": "order heuristic score, highest first",
    "formula": "reduced formula, A to Z (byte order)",
    "newest": "most recently stored first",
}


def order_cap(max_rank: int | None, all_orders: bool) -> int | None:
    """The ``max_rank`` of a ranked listing (the API, ``altermag db candidates``).

    By default a listing has one row per material, its most probable order (``max_rank=1``,
    the rule of :func:`altermag.ranking.rank_candidates`); ``all_orders`` lists every order;
    an explicit ``max_rank`` keeps the orders ranked at most that.
    """
    if max_rank is not None:
        return max_rank
    return None if all_orders else 1


def normalise_element(symbol: str) -> str:
    """``mn`` / ``MN`` → ``Mn``."""
    s = symbol.strip()
    return s[:1].upper() + s[1:].lower()


class word_position(FunctionElement[int]):
    """1-based position of a string in another (0: absent): ``instr(text, part)`` on
    SQLite, ``strpos(text, part)`` on PostgreSQL."""

    type = Integer()
    name = "word_position"
    inherit_cache = True


@compiles(word_position)
def _instr(element: word_position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(word_position, "postgresql")
def _strpos(element: word_position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def has_element(symbol: str) -> ColumnElement[bool]:
    """Whether an order's material contains the element ``symbol`` (normalised), read off
    the order row's own ``element_list`` (the material's sorted symbols, space-separated).

    The test is on the row a page already reads, not a probe of ``material_elements`` per
    row: a page filtered by an element walks the ``(sort key, id)`` index and reads no other
    table (on PostgreSQL about a third of the buffers and time of the probe). ``strpos``
    rather than ``LIKE``: PostgreSQL's generic plan estimates a parameterised ``LIKE`` to
    keep almost no row and would sort the whole table instead of walking the index.
    """
    padded: ColumnElement[str] = (
        literal_column("' '") + MagneticOrder.element_list + literal_column("' '")
    )
    return word_position(padded, f" {symbol} ") > 0


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def encode_cursor(sort: str, key: Any, order_id: int) -> str:
    """Opaque URL-safe cursor holding the last row's sort value and id."""
    raw = json.dumps({"s": sort, "k": key, "i": order_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """Inverse of :func:`encode_cursor`; a cursor made for another sort is rejected."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key, order_id = data["k"], int(data["i"])
        cursor_sort = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"invalid cursor {cursor[:80]!r}") from exc
    if cursor_sort != sort:
        raise InputError(f"the cursor was made for sort={cursor_sort!r}, not sort={sort!r}")
    if not _cursor_key_ok(sort, key) or not 0 <= order_id < 2**63:
        # a crafted cursor: the values are bound as SQL parameters of the sort's type, so a
        # wrong type or an out-of-range integer would fail in the database driver
        raise InputError(f"invalid cursor {cursor[:80]!r}")
    return key, order_id


def _cursor_key_ok(sort: str, key: Any) -> bool:
    """Whether ``key`` can be a sort value of ``sort`` (what :func:`encode_cursor` writes)."""
    if sort == "formula":
        return isinstance(key, str) and "\x00" not in key and len(key) <= 256
    if sort == "newest":
        return isinstance(key, int) and not isinstance(key, bool) and 0 <= key < 2**63
    return (
        isinstance(key, (int, float))
        and not isinstance(key, bool)
        and math.isfinite(key)
        and abs(key) <= 1e300
    )


@dataclass(frozen=True)
class CandidateQuery:
    """Filters of the candidate table (all optional, combined with AND).

    Parameters
    ----------
    verdict, wave
        One value or several (``"altermagnet"``; ``["d", "g"]``).
    elements
        The material must contain every one of these elements.
    source
        Source of the material's first sighting.
    run_id
        Only materials seen by this screening run.
    min_score
        Lower bound on P(altermagnetic ground state) (unscored rows are then excluded).
    max_rank
        Keep enumerated orders ranked at most this by the heuristic (orders given with the
        structure always pass): ``max_rank=1`` gives each material's most plausible order.
    settings_hash
        Only results computed with these analysis settings.
    formula
        Reduced formula, however written (``MnF2``, ``F2Mn``, ``Mn2F4`` find the same rows).
    dft_status
        Status of the latest DFT check of the order: ``confirmed``, ``contradicted``,
        ``inconclusive``, or ``unchecked`` (no DFT result); one or several.
    model_version
        Model whose scores are joined; default the most recently stored version.
    max_per_prototype
        Keep at most this many rows per structure prototype (``materials.prototype``), the
        first ones in the ranking's order (P(altermagnetic ground state), then order id,
        both descending: :func:`altermag.ranking.rank_candidates`) among the rows the other
        filters keep; rows of materials without a prototype key are not capped.
    """

    verdict: str | Sequence[str] | None = None
    wave: str | Sequence[str] | None = None
    elements: Sequence[str] = ()
    source: str | None = None
    run_id: int | None = None
    min_score: float | None = None
    max_rank: int | None = None
    settings_hash: str | None = None
    formula: str | None = None
    dft_status: str | Sequence[str] | None = None
    model_version: str | None = None
    max_per_prototype: int | None = None

    def canonical(self) -> CandidateQuery:
        """The same query with every multi-valued filter as a sorted tuple (hashable)."""
        return replace(
            self,
            verdict=tuple(sorted(_as_list(self.verdict))) or None,
            wave=tuple(sorted(_as_list(self.wave))) or None,
            elements=tuple(sorted({normalise_element(e) for e in self.elements})),
            formula=None if self.formula is None else normalise_formula(self.formula),
            dft_status=tuple(sorted(_as_list(self.dft_status))) or None,
        )

    def select(
        self, with_material: bool = False, columns: Sequence[Any] | None = None
    ) -> tuple[Select[Any], ScoreColumns]:
        """The filtered ``SELECT`` of the candidate columns and where its scores come from.

        Without ``model_version`` the scores (and P(k = 0)) are the ones denormalised onto each
        order (the most recently stored model version), and so is the material's identity
        (:data:`~altermag.store.models.MATERIAL_IDENTITY`): a page walks one ``(sort key,
        id)`` index of ``magnetic_orders`` and reads nothing else. ``materials`` is joined
        only for what the order rows do not carry: the ``source`` and ``formula`` filters
        (their indexes), ``max_per_prototype`` and, with ``with_material``, the caller's
        sort (the formula order's index). With an explicit ``model_version`` the scores of
        that version are joined in instead. ``columns`` replaces :data:`CANDIDATE_COLUMNS`
        (the scores follow them either way).
        """
        columns = CANDIDATE_COLUMNS if columns is None else columns
        if self.model_version is None:
            cols = ScoreColumns(
                MagneticOrder.model_version,
                MagneticOrder.score,
                MagneticOrder.score_key,
                MagneticOrder.p_k0,
            )
            stmt = select(*columns, *cols.columns())
        else:
            score = aliased(ModelScore, name="score")
            cols = ScoreColumns(
                score.model_version,
                score.score,
                func.coalesce(score.score, MISSING_SCORE),
                score.p_k0,
            )
            stmt = select(*columns, *cols.columns()).outerjoin(
                score,
                and_(
                    score.material_id == MagneticOrder.material_id,
                    score.model_version == self.model_version,
                ),
            )
        if (
            with_material
            or self.source is not None
            or self.formula is not None
            or self.max_per_prototype is not None
        ):
            stmt = stmt.join(Material, Material.id == MagneticOrder.material_id)
        conditions: list[ColumnElement[bool]] = []
        if verdicts := _as_list(self.verdict):
            conditions.append(MagneticOrder.verdict.in_(verdicts))
        if waves := _as_list(self.wave):
            conditions.append(MagneticOrder.wave.in_(waves))
        for element in self.elements:
            conditions.append(has_element(normalise_element(element)))
        if self.source is not None:
            conditions.append(Material.source == self.source)
        if self.run_id is not None:
            conditions.append(
                exists().where(
                    RunItem.run_id == self.run_id, RunItem.material_id == MagneticOrder.material_id
                )
            )
        if self.min_score is not None:
            conditions.append(cols.score >= self.min_score)
        if self.max_rank is not None:
            conditions.append(
                or_(
                    MagneticOrder.heuristic_rank.is_(None),
                    MagneticOrder.heuristic_rank <= self.max_rank,
                )
            )
        if self.settings_hash is not None:
            conditions.append(MagneticOrder.settings_hash == self.settings_hash)
        if self.formula is not None:
            conditions.append(Material.formula == normalise_formula(self.formula))
        if statuses := _as_list(self.dft_status):
            checked = [s for s in statuses if s != "unchecked"]
            either = [MagneticOrder.dft_status.in_(checked)] if checked else []
            if "unchecked" in statuses:
                either.append(MagneticOrder.dft_status.is_(None))
            conditions.append(or_(*either))
        if conditions:
            stmt = stmt.where(*conditions)
        if self.max_per_prototype is not None:
            # number the filtered rows within each prototype in the ranking's order and keep
            # the first N (the cap applies after every other filter, as in the files)
            n_ahead = (
                func.row_number()
                .over(
                    partition_by=Material.prototype,
                    order_by=(cols.score_key.desc(), MagneticOrder.id.desc()),
                )
                .label("n_in_prototype")
            )
            ranked = stmt.with_only_columns(
                MagneticOrder.id.label("oid"), Material.prototype.label("proto"), n_ahead
            ).subquery("ranked")
            kept = select(ranked.c.oid).where(
                or_(ranked.c.n_in_prototype <= self.max_per_prototype, ranked.c.proto == "")
            )
            stmt = stmt.where(MagneticOrder.id.in_(kept))
        return stmt, cols


CANDIDATE_COLUMNS = (
    MagneticOrder.id.label("order_id"),
    MagneticOrder.material_id,
    MagneticOrder.formula,
    MagneticOrder.element_list,
    MagneticOrder.content_hash,
    MagneticOrder.source,
    MagneticOrder.source_id,
    MagneticOrder.verdict,
    MagneticOrder.wave,
    MagneticOrder.spin_laue_group,
    MagneticOrder.form_factor,
    MagneticOrder.nodal_planes,
    MagneticOrder.moments,
    MagneticOrder.enumerated,
    MagneticOrder.heuristic_rank,
    MagneticOrder.heuristic_score,
    MagneticOrder.heuristic_reason,
    MagneticOrder.p_ground_state,
    MagneticOrder.settings_hash,
    MagneticOrder.dft_status,
    MagneticOrder.dft_splitting_ev,
    MagneticOrder.dft_ground_state,
    MagneticOrder.dft_am_margin_mev,
)
"""Columns of a candidate row besides its scores (no JSON result or structure blobs), all of
``magnetic_orders`` (the material's identity is copied there, ``MATERIAL_IDENTITY``)."""


def page_columns(dialect: str) -> tuple[Any, ...]:
    """The columns of a candidate row as the API's JSON pages read them: the order id, the
    row's stored JSON head (``magnetic_orders.page_head``: every field that only changes
    when the order is stored again) and the fields that change after that (DFT results,
    P(ground state)); the scores follow as in :data:`CANDIDATE_COLUMNS`. The head is read as
    its UTF-8 bytes (SQLite: as a BLOB; PostgreSQL: ``convert_to``, a ``bytea``), which go
    into the page as they are: as text, every head (≈ 740 characters, its spin Laue symbol
    not ASCII) was decoded by the driver and encoded again for the page."""
    head: Any = MagneticOrder.page_head
    if dialect == "sqlite":
        head = cast(head, LargeBinary)
    elif dialect == "postgresql":
        head = func.convert_to(head, literal_column("'UTF8'"), type_=LargeBinary)
    return (
        MagneticOrder.id.label("order_id"),
        head.label("page_head"),
        MagneticOrder.p_ground_state,
        MagneticOrder.dft_status,
        MagneticOrder.dft_splitting_ev,
        MagneticOrder.dft_ground_state,
        MagneticOrder.dft_am_margin_mev,
    )


@dataclass(frozen=True)
class ScoreColumns:
    """Where a candidate query reads its model scores and score sort keys from."""

    model_version: Any
    score: Any
    score_key: Any
    p_k0: Any

    def columns(self) -> tuple[Any, ...]:
        return (
            self.model_version.label("model_version"),
            self.score.label("score"),
            self.p_k0.label("p_k0"),
        )


def sort_key(sort: str, scores: ScoreColumns, dialect: str) -> tuple[Any, bool]:
    """The sort expression for ``sort`` and whether it is descending."""
    if sort == "score":
        return scores.score_key, True
    if sort == "dft_splitting":
        return MagneticOrder.dft_key, True
    if sort == "dft_ground_state":
        return MagneticOrder.dft_gs_key, True
    if sort == "heuristic_score":
        return func.coalesce(MagneticOrder.heuristic_score, MISSING_SCORE), True
    if sort == "formula":
        expr: SQLColumnExpression[Any] = Material.formula
        if dialect == "postgresql":
            expr = Material.formula.collate("C")  # byte order, as SQLite's BINARY
        return expr, False
    if sort == "newest":
        return MagneticOrder.id, True
    raise SettingsError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")


def same_order(a: Sequence[float] | None, b: Sequence[float] | None) -> bool:
    """Whether two collinear moment lists describe the same order (sign pattern up to a flip).

    Enumerated orders are stored as ±1 per magnetic site while a DFT job records the
    moments it started from (e.g. ±4 μB); both describe the same order when the signs agree
    site by site, or all disagree (the time-reversed order).
    """
    if a is None or b is None or len(a) != len(b):
        return False

    def sign(x: float) -> int:
        return 0 if abs(x) < 1e-6 else (1 if x > 0 else -1)

    sa, sb = [sign(x) for x in a], [sign(x) for x in b]
    if not any(sa):
        return False
    return sa == sb or sa == [-x for x in sb]


def paginate(
    stmt: Select[*tuple[Any, ...]],
    key: ColumnElement[Any],
    descending: bool,
    with_cursor: bool,
) -> Select[*tuple[Any, ...]]:
    """Order by (key, id); with a cursor, start strictly after the bound ``(cursor_key,
    cursor_id)`` pair (parameters given at execution, so the statement can be reused)."""
    oid = MagneticOrder.id
    if with_cursor:
        k = bindparam("cursor_key", type_=key.type)
        i = bindparam("cursor_id", type_=Integer)
        # (key, id) after (k, i), written so that the bound on the key alone is a conjunct:
        # the database then starts an index range scan at k instead of scanning the index
        # from its first entry (SQLite: SEARCH instead of SCAN; page 200 of 12,000 rows
        # 1.3 ms instead of 7 ms, and it no longer grows with the page number)
        if descending:
            stmt = stmt.where(key <= k, or_(key < k, oid < i))
        else:
            stmt = stmt.where(key >= k, or_(key > k, oid > i))
    order = (key.desc(), oid.desc()) if descending else (key.asc(), oid.asc())
    return stmt.add_columns(key.label("sort_value")).order_by(*order)


@lru_cache(maxsize=512)
def page_statement(
    query: CandidateQuery,
    sort: str,
    dialect: str,
    with_cursor: bool,
    limit: int,
    json_head: bool = False,
) -> Select[*tuple[Any, ...]]:
    """The ``SELECT`` of one page of ``query`` (``limit`` rows), built once and reused.

    Building the statement and letting SQLAlchemy adapt its cached compilation to a new
    statement object cost more than running the indexed query itself (~1.5 ms of ~3.5 ms
    per page); the same query shape now reuses one statement. ``query`` must be hashable
    (:meth:`CandidateQuery.canonical`).

    The limit is written into the SQL as a number, not bound: it is part of the shape, and a
    plan made before the parameters are known (PostgreSQL's generic plan of a prepared
    statement) then knows how few rows are wanted and walks the sort index, where an
    unknown limit is planned as a tenth of the table.

    ``json_head`` selects :func:`page_columns` instead of :data:`CANDIDATE_COLUMNS`.
    """
    columns = page_columns(dialect) if json_head else None
    stmt, scores = query.select(with_material=sort == "formula", columns=columns)
    key, descending = sort_key(sort, scores, dialect)
    return paginate(stmt, key, descending, with_cursor).limit(literal_column(str(int(limit))))

"""OPTIMADE filters as SQL over the store.

The filter string is parsed by the ``optimade`` package's grammar (``LarkParser``); this
transformer (an ``optimade`` ``BaseTransformer``) turns the tree into one SQLAlchemy boolean
expression over ``magnetic_orders`` joined with ``materials``, so a filtered page is one
indexed query whatever the store's size. Semantics follow the specification and the
reference (MongoDB) transformer:

* a comparison with a missing (null) value is false, and so is its negation (SQL's NULL
  logic gives exactly this);
* strings compare byte-wise (``COLLATE "C"`` on PostgreSQL, as SQLite's ``BINARY``);
  ``CONTAINS``/``STARTS``/``ENDS`` are case-sensitive;
* formula equality accepts a formula written in any element order
  (``chemical_formula_reduced = "MnF2"`` finds the entry whose reduced formula is ``F2Mn``);
* unknown properties of another provider (``_crazyprovider_x``) are UNKNOWN; an unknown
  property without prefix is a 400; queries on properties the store cannot search
  (positions, lattice vectors…) and correlated (``:``) queries are 501.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lark import Token, v_args
from optimade.exceptions import BadRequest
from optimade.filtertransformers.base_transformer import BaseTransformer, Quantity
from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, true

from altermag.store.models import MagneticOrder, MaterialElement

__all__ = ["ConstantField", "ElementsField", "Field", "ScalarField", "SqlTransformer"]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_REVERSED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


class Field:
    """How one OPTIMADE property is searched; by default it cannot be (501)."""

    name: str

    def _refuse(self, what: str) -> ColumnElement[bool]:
        raise NotImplementedError(f"{what} queries on {self.name!r} are not supported")

    def compare(self, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
        return self._refuse(f"'{op}'")

    def known(self, is_known: bool) -> ColumnElement[bool]:
        return self._refuse("IS KNOWN/UNKNOWN")

    def fuzzy(self, kind: str, value: Any, dialect: str) -> ColumnElement[bool]:
        return self._refuse(kind)

    def has(self, kind: str, values: Sequence[Any]) -> ColumnElement[bool]:
        return self._refuse(f"HAS {kind}".strip())

    def length(self, op: str, value: int) -> ColumnElement[bool]:
        return self._refuse("LENGTH")


@dataclass
class ScalarField(Field):
    """A property stored in one column: a string, number, boolean or timestamp."""

    name: str
    column: Any
    kind: str = "string"
    normalise: Callable[[str], str] | None = None
    """Applied to the value of ``=``/``!=`` (formulas written in another element order)."""

    def _value(self, value: Any) -> Any:
        if isinstance(value, Quantity):
            raise NotImplementedError("comparisons between two properties are not supported")
        if self.kind == "string":
            if not isinstance(value, str):
                raise BadRequest(detail=f"{self.name} is a string: compare it with a string")
            return value
        if self.kind == "timestamp":
            if not isinstance(value, str):
                raise BadRequest(detail=f"{self.name} is a timestamp: give it as a string")
            try:
                when = dt.datetime.fromisoformat(value)
            except ValueError:
                raise BadRequest(detail=f"{value!r} is not an ISO 8601 timestamp") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return when.astimezone(dt.UTC)
        if self.kind == "boolean":
            raise NotImplementedError("boolean comparisons are not supported")
        if isinstance(value, str | bool):
            raise BadRequest(detail=f"{self.name} is a number: compare it with a number")
        return value

    def _column(self, dialect: str) -> Any:
        if self.kind == "string" and dialect == "postgresql":
            return self.column.collate("C")  # byte order, as SQLite's BINARY
        return self.column

    def compare(self, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
        value = self._value(value)
        if self.kind == "timestamp" and dialect == "sqlite":
            value = value.replace(tzinfo=None)  # stored naive, in UTC
        if self.normalise is not None and op in ("=", "!="):
            value = self.normalise(value)
        return _OPS[op](self._column(dialect), value)

    def known(self, is_known: bool) -> ColumnElement[bool]:
        return self.column.is_not(None) if is_known else self.column.is_(None)

    def fuzzy(self, kind: str, value: Any, dialect: str) -> ColumnElement[bool]:
        if self.kind != "string":
            return super().fuzzy(kind, value, dialect)
        value = self._value(value)
        col = self.column
        if kind == "CONTAINS":
            found = func.instr(col, value) if dialect == "sqlite" else func.strpos(col, value)
            return found > 0
        if kind == "STARTS":
            return func.substr(col, 1, len(value)) == value
        return func.substr(col, func.length(col) - len(value) + 1) == value


@dataclass
class ConstantField(Field):
    """A property with the same value on every entry (``nperiodic_dimensions = 3``)."""

    name: str
    value: Any

    def compare(self, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
        if isinstance(value, Quantity) or isinstance(self.value, list):
            return super().compare(op, value, dialect)
        try:
            return true() if _OPS[op](self.value, value) else false()
        except TypeError:
            raise BadRequest(detail=f"{self.name} cannot be compared with {value!r}") from None

    def known(self, is_known: bool) -> ColumnElement[bool]:
        return true() if is_known else false()

    def has(self, kind: str, values: Sequence[Any]) -> ColumnElement[bool]:
        if not isinstance(self.value, list):
            return super().has(kind, values)
        present = [v in self.value for v in values]
        if kind == "ALL" or kind == "":
            ok = all(present)
        elif kind == "ANY":
            ok = any(present)
        else:  # ONLY
            ok = all(v in values for v in self.value)
        return true() if ok else false()

    def length(self, op: str, value: int) -> ColumnElement[bool]:
        if not isinstance(self.value, list):
            return super().length(op, value)
        return true() if _OPS[op](len(self.value), value) else false()


@dataclass
class ElementsField(Field):
    """``elements``: one row per element of a material in ``material_elements``."""

    name: str
    count: Any
    """The material's number of elements (``LENGTH``)."""

    @staticmethod
    def _has(element: Any) -> ColumnElement[bool]:
        if not isinstance(element, str):
            raise BadRequest(detail='elements are strings, e.g. elements HAS "Mn"')
        return exists().where(
            MaterialElement.material_id == MagneticOrder.material_id,
            MaterialElement.element == element,
        )

    def has(self, kind: str, values: Sequence[Any]) -> ColumnElement[bool]:
        if kind in ("", "ALL"):
            return and_(*(self._has(v) for v in values))
        if kind == "ANY":
            return or_(*(self._has(v) for v in values))
        return not_(  # ONLY: no element outside the list
            exists().where(
                MaterialElement.material_id == MagneticOrder.material_id,
                MaterialElement.element.not_in(list(values)),
            )
        )

    def length(self, op: str, value: int) -> ColumnElement[bool]:
        return _OPS[op](self.count, value)

    def known(self, is_known: bool) -> ColumnElement[bool]:
        return true() if is_known else false()


class SqlTransformer(BaseTransformer):
    """Filter tree → SQLAlchemy boolean over ``magnetic_orders`` ⋈ ``materials``."""

    def __init__(self, mapper: Any, fields: dict[str, Field], dialect: str) -> None:
        super().__init__(mapper=mapper)
        self.fields = fields
        self.dialect = dialect

    def _field(self, quantity: Any) -> Field | None:
        """The searchable field, or None for another provider's (unknown) property."""
        if isinstance(quantity, str):
            return None
        return self.fields.get(quantity.name) or _Unsearchable(quantity.name)

    def postprocess(self, query: Any) -> Any:
        return true() if query is None else query

    def value_list(self, arg: list[Any]) -> list[Any]:
        if any(isinstance(v, Token) and v.type == "OPERATOR" for v in arg):
            raise NotImplementedError("operators inside value lists are not supported")
        return list(arg)

    def value_zip(self, arg: list[Any]) -> Any:
        raise NotImplementedError("correlated (':') list queries are not supported")

    def value_zip_list(self, arg: list[Any]) -> Any:
        raise NotImplementedError("correlated (':') list queries are not supported")

    def set_zip_op_rhs(self, arg: list[Any]) -> Any:
        raise NotImplementedError("correlated (':') list queries are not supported")

    def property_zip_addon(self, arg: list[Any]) -> Any:
        raise NotImplementedError("correlated (':') list queries are not supported")

    def expression(self, arg: list[Any]) -> ColumnElement[bool]:
        return or_(*arg) if len(arg) > 1 else arg[0]

    def expression_clause(self, arg: list[Any]) -> ColumnElement[bool]:
        return and_(*arg) if len(arg) > 1 else arg[0]

    def expression_phrase(self, arg: list[Any]) -> ColumnElement[bool]:
        negate = any(isinstance(a, Token) and a.type == "NOT" for a in arg)
        expr = [a for a in arg if a is not None and not isinstance(a, Token)][-1]
        return not_(expr) if negate else expr

    @v_args(inline=True)
    def property_first_comparison(self, quantity: Any, rhs: Callable) -> ColumnElement[bool]:
        return rhs(self._field(quantity))  # None: another provider's property, UNKNOWN

    def constant_first_comparison(self, arg: list[Any]) -> ColumnElement[bool]:
        value, op, quantity = arg
        if not isinstance(quantity, Quantity | str):
            raise NotImplementedError("comparisons of two constants are not supported")
        return self.property_first_comparison(quantity, self.value_op_rhs(_REVERSED[op], value))

    @v_args(inline=True)
    def value_op_rhs(self, op: Any, value: Any) -> Callable:
        op = str(op)
        return lambda f: false() if f is None else f.compare(op, value, self.dialect)

    def known_op_rhs(self, arg: list[Any]) -> Callable:
        is_known = str(arg[-1]) == "KNOWN"
        return lambda f: (false() if is_known else true()) if f is None else f.known(is_known)

    def fuzzy_string_op_rhs(self, arg: list[Any]) -> Callable:
        kind = str(arg[0])
        value = arg[-1]
        return lambda f: false() if f is None else f.fuzzy(kind, value, self.dialect)

    def set_op_rhs(self, arg: list[Any]) -> Callable:
        parts = [a for a in arg if a is not None][1:]  # drop HAS
        if len(parts) == 2 and isinstance(parts[0], Token) and parts[0].type == "OPERATOR":
            raise NotImplementedError("HAS with an operator is not supported")
        kind = str(parts[0]) if len(parts) == 2 else ""
        values = parts[-1] if isinstance(parts[-1], list) else [parts[-1]]
        return lambda f: false() if f is None else f.has(kind, values)

    def length_op_rhs(self, arg: list[Any]) -> Callable:
        parts = [a for a in arg if a is not None][1:]  # drop LENGTH
        op = str(parts[0]) if len(parts) == 2 else "="
        value = parts[-1]
        return lambda f: false() if f is None else f.length(op, value)


@dataclass
class _Unsearchable(Field):
    """A known property the store cannot search (positions, lattice vectors…): 501."""

    name: str

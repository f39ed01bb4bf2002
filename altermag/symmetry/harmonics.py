"""Spin-splitting form factors: homogeneous polynomials that transform like χ.

For a collinear magnet without spin–orbit coupling the splitting Δ(k) = E↑(k) − E↓(k)
obeys Δ(Rk) = χ(R) Δ(k) for every element R of the spin Laue group, where χ(R) = +1 for a
spin-preserving and −1 for a spin-flipping operation. The lowest even degree l for which a
non-zero polynomial with that property exists is the *wave type* (l = 0, 2, 4, 6 → s, d, g, i).

Its multiplicity comes from characters only,

    m_l = (1/|G|) Σ_R χ(R) χ_l(R),

where χ_l(R) is the character of R on degree-l polynomials of (kx, ky, kz), which equals the
complete homogeneous symmetric polynomial h_l of the eigenvalues of R. The polynomials
themselves come from projecting the monomial basis with P = (1/|G|) Σ_R χ(R) D_l(R).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from types import CodeType
from typing import cast

import numpy as np

__all__ = [
    "WAVE_LETTERS",
    "Polynomial",
    "evaluate",
    "form_factor_basis",
    "free_coefficients",
    "lowest_degree",
    "multiplicity",
    "polynomial_function",
    "polynomial_string",
    "symmetric_power_character",
]

WAVE_LETTERS = {0: "s", 2: "d", 4: "g", 6: "i", 8: "j"}


@cache
def monomial_exponents(degree: int) -> np.ndarray:
    """Exponents (a, b, c), a + b + c = degree, of kx^a ky^b kz^c in a fixed order (kx first)."""
    out = [(a, b, degree - a - b) for a in range(degree, -1, -1) for b in range(degree - a, -1, -1)]
    return np.array(out, dtype=int)


@cache
def _sample(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample points on the unit sphere and the pseudo-inverse of their monomial matrix."""
    exps = monomial_exponents(degree)
    rng = np.random.default_rng(12345 + degree)
    pts = rng.normal(size=(3 * len(exps) + 6, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    v = _monomials(pts, exps)
    return pts, np.linalg.pinv(v)


def _monomials(points: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """Monomial values, shape (..., n_points, n_monomials) (powers by repeated products)."""
    points = np.asarray(points, dtype=float)
    top = int(exps.max()) if exps.size else 0
    powers = np.ones((*points.shape[:-1], top + 1, 3))
    for e in range(1, top + 1):
        powers[..., e, :] = powers[..., e - 1, :] * points
    return powers[..., exps[:, 0], 0] * powers[..., exps[:, 1], 1] * powers[..., exps[:, 2], 2]


def symmetric_power_character(rotations: np.ndarray, degree: int) -> np.ndarray:
    """χ_l(R) = h_l(λ1, λ2, λ3) for each 3×3 orthogonal matrix R (eigenvalues λ).

    h_l is the complete homogeneous symmetric polynomial, obtained from the power sums
    p_k = tr(R^k) by Newton's identity l h_l = Σ_{k=1..l} p_k h_{l−k}.
    """
    rots = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    power = np.broadcast_to(np.eye(3), rots.shape).copy()
    p = []
    for _ in range(degree):
        power = power @ rots
        p.append(np.trace(power, axis1=1, axis2=2))
    h = [np.ones(len(rots))]
    for n in range(1, degree + 1):
        h.append(sum(p[k - 1] * h[n - k] for k in range(1, n + 1)) / n)
    return h[degree]


def multiplicity(rotations: np.ndarray, chi: np.ndarray, degree: int) -> int:
    """Number of independent degree-``degree`` polynomials f with f(Rk) = χ(R) f(k)."""
    m = float(np.mean(np.asarray(chi) * symmetric_power_character(rotations, degree)))
    return round(m)


def lowest_degree(rotations: np.ndarray, chi: np.ndarray, max_degree: int = 8) -> int | None:
    """Lowest even degree with non-zero multiplicity (the wave type), or None."""
    for degree in range(0, max_degree + 1, 2):
        if multiplicity(rotations, chi, degree) > 0:
            return degree
    return None


def representation(rotations: np.ndarray, degree: int) -> np.ndarray:
    """D_l(R): coefficients of p(Rᵀk) for every monomial p, shape (|G|, n_mono, n_mono).

    Column j of D_l(R) holds the monomial coefficients of k ↦ p_j(Rᵀ k).
    """
    exps = monomial_exponents(degree)
    pts, pinv = _sample(degree)
    rots = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    moved = np.einsum("gji,pj->gpi", rots, pts)  # Rᵀ k for every point
    values = _monomials(moved, exps)  # (G, P, n_mono)
    return np.einsum("mp,gpn->gmn", pinv, values)


def form_factor_basis(rotations: np.ndarray, chi: np.ndarray, degree: int) -> np.ndarray:
    """A basis (rows: monomial coefficients) of the degree-l polynomials transforming as χ.

    The basis is in reduced row-echelon form, so a one-dimensional space gives the simplest
    polynomial with leading coefficient 1 (``kx*ky`` for MnF2 with a along x).
    """
    d = representation(rotations, degree)
    proj = np.einsum("g,gmn->mn", np.asarray(chi, dtype=float), d) / len(d)
    u, s, _ = np.linalg.svd(proj)
    rank = int(np.sum(s > 1e-6 * max(1.0, s[0])))
    if rank == 0:
        return np.zeros((0, len(monomial_exponents(degree))))
    basis = u[:, :rank].T  # rows span the image of the projector
    return np.array([_integerise(row) for row in _rref(basis)])


def _integerise(row: np.ndarray) -> np.ndarray:
    """Scale a coefficient row to coprime integers when its entries are simple rationals."""
    from fractions import Fraction
    from math import gcd, lcm

    nz = row[np.abs(row) > 1e-9]
    fracs = [Fraction(float(x)).limit_denominator(12) for x in nz]
    if not all(abs(float(f) - x) < 1e-6 for f, x in zip(fracs, nz, strict=True)):
        return row
    den = lcm(*(f.denominator for f in fracs))
    ints = [int(f * den) for f in fracs]
    g = gcd(*ints)
    return row * den / g


def _rref(m: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    m = m.copy()
    tol = tol * max(1.0, float(np.max(np.abs(m))) if m.size else 1.0)
    rows, cols = m.shape
    r = 0
    for c in range(cols):
        if r == rows:
            break
        pivot = r + int(np.argmax(np.abs(m[r:, c])))
        if abs(m[pivot, c]) < tol:
            continue
        m[[r, pivot]] = m[[pivot, r]]
        m[r] /= m[r, c]
        for i in range(rows):
            if i != r:
                m[i] -= m[i, c] * m[r]
        r += 1
    m[np.abs(m) < 1e-9] = 0.0
    return m[:r]


def _coef_string(c: float) -> str:
    for den in (1, 2, 3, 4):
        if abs(c * den - round(c * den)) < 1e-6:
            num = round(c * den)
            return str(num) if den == 1 else f"{num}/{den}"
    for base, name in ((np.sqrt(3), "sqrt(3)"), (np.sqrt(2), "sqrt(2)")):
        for den in (1, 2, 3, 4, 6, 9):
            q = c * den / base
            if abs(q - round(q)) < 1e-6 and round(q) != 0:
                num = round(q)
                head = name if num == 1 else ("-" + name if num == -1 else f"{num}*{name}")
                return head if den == 1 else f"{head}/{den}"
    return f"{c:.4g}"


def polynomial_string(coefficients: np.ndarray, degree: int) -> str:
    """Human-readable polynomial in kx, ky, kz, e.g. ``kx**3*kz - 3*kx*ky**2*kz`` (read back by
    :func:`polynomial_function`, and by sympy)."""
    exps = monomial_exponents(degree)
    coefficients = np.asarray(coefficients, dtype=float)
    scale = np.max(np.abs(coefficients)) if coefficients.size else 0.0
    terms: list[str] = []
    for c, (a, b, cz) in zip(coefficients, exps, strict=True):
        if abs(c) <= 1e-6 * scale:
            continue
        factors = [
            f"{name}**{p}" if p > 1 else name
            for name, p in (("kx", a), ("ky", b), ("kz", cz))
            if p > 0
        ]
        mono = "*".join(factors) or "1"
        cs = _coef_string(abs(c))
        sign = "-" if c < 0 else "+"
        body = mono if cs == "1" else f"{cs}*{mono}"
        terms.append(f"{sign} {body}")
    if not terms:
        return "0"
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def evaluate(coefficients: np.ndarray, degree: int, k: np.ndarray) -> np.ndarray:
    """Evaluate a polynomial (monomial coefficients) at Cartesian points k, shape (..., 3)."""
    exps = monomial_exponents(degree)
    k = np.asarray(k, dtype=float)
    vals = np.prod(k[..., None, :] ** exps, axis=-1)
    return vals @ np.asarray(coefficients, dtype=float)


_VARIABLES = ("kx", "ky", "kz")
_OPERATIONS = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Load,
)
MAX_POWER = 12
"""Largest exponent, and largest degree of any part, of a polynomial that
:func:`polynomial_function` reads (form factors stop at degree 8)."""

DEGREE_TOL = 1e-12
"""Monomials whose coefficient is below this fraction of the largest one do not count for
:attr:`Polynomial.degree` (round-off of cancelled terms; the analysis writes no coefficient
below 1e-6 of the largest)."""

Exponents = tuple[int, int, int]
"""(a, b, c) of the monomial kx^a ky^b kz^c."""


@dataclass(frozen=True, eq=False)
class Polynomial:
    """A polynomial in the Cartesian kx, ky, kz read from its text.

    Calling it evaluates the text with numpy on arrays of k (term by term, in the order
    written); ``terms`` holds its expanded monomial coefficients, from which the degree is
    read.
    """

    text: str
    terms: dict[Exponents, float]
    """Monomial exponents → coefficient, like terms collected."""
    _code: CodeType = field(repr=False)

    @property
    def degree(self) -> int:
        """Total degree: the largest a + b + c of a non-zero term (0 for a constant).

        A form factor of wave type d, g, i has degree 2, 4, 6; a splitting that grows
        as |k|^degree near Γ.
        """
        scale = max((abs(c) for c in self.terms.values()), default=0.0)
        return max(
            (sum(e) for e, c in self.terms.items() if abs(c) > DEGREE_TOL * scale),
            default=0,
        )

    def __call__(self, kx: np.ndarray, ky: np.ndarray, kz: np.ndarray) -> np.ndarray:
        """f at Cartesian k (arrays broadcast; a constant polynomial gives a number)."""
        return eval(self._code, _CONSTANTS, {"kx": kx, "ky": ky, "kz": kz})  # every node checked


_CONSTANTS = {"__builtins__": {}, "sqrt": np.sqrt}


def _checked(text: str, coefficients: bool) -> tuple[ast.Expression, set[str]]:
    """The syntax tree of arithmetic of kx, ky, kz, and the other names in it (free
    coefficients such as ``a1``, allowed only when ``coefficients`` is true).

    Raises ``ValueError`` for anything but arithmetic (+, −, ×, /, integer powers up to
    :data:`MAX_POWER`) of those names, numbers and ``sqrt`` of a number.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError) as exc:
        raise ValueError(f"not a polynomial in kx, ky, kz: {text!r}") from exc
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, _OPERATIONS):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
                power = node.right
                if not (
                    isinstance(power, ast.Constant)
                    and type(power.value) is int
                    and 0 <= power.value <= MAX_POWER
                ):
                    raise ValueError(f"{text!r}: powers must be integers 0..{MAX_POWER}")
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Name) and id(node) not in functions:
            if node.id in _VARIABLES:
                continue
            if coefficients and node.id != "sqrt":
                names.add(node.id)
                continue
        if isinstance(node, ast.Name) and node.id == "sqrt" and id(node) in functions:
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "sqrt"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant)
            and not node.keywords
        ):
            continue
        raise ValueError(f"not a polynomial in kx, ky, kz: {text!r}")
    return tree, names


def _product(a: dict[Exponents, float], b: dict[Exponents, float]) -> dict[Exponents, float]:
    out: dict[Exponents, float] = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = (ea[0] + eb[0], ea[1] + eb[1], ea[2] + eb[2])
            if sum(e) > MAX_POWER:
                raise ValueError(f"a polynomial of degree above {MAX_POWER}")
            out[e] = out.get(e, 0.0) + ca * cb
    return out


def _expand(node: ast.expr) -> dict[Exponents, float]:
    """Monomial coefficients of a checked tree (division only by a non-zero number)."""
    if isinstance(node, ast.Constant):  # an int or a float, checked
        return {(0, 0, 0): float(cast(float, node.value))}
    if isinstance(node, ast.Name):
        i = _VARIABLES.index(node.id)
        return {(int(i == 0), int(i == 1), int(i == 2)): 1.0}
    if isinstance(node, ast.Call):  # sqrt of a number
        radicand = _expand(node.args[0])[0, 0, 0]
        if radicand < 0:
            raise ValueError("square root of a negative number")
        return {(0, 0, 0): float(np.sqrt(radicand))}
    if isinstance(node, ast.UnaryOp):
        inner = _expand(node.operand)
        return inner if isinstance(node.op, ast.UAdd) else {e: -c for e, c in inner.items()}
    assert isinstance(node, ast.BinOp)
    left = _expand(node.left)
    if isinstance(node.op, ast.Pow):
        power = cast(ast.Constant, node.right).value  # an integer 0..MAX_POWER, checked
        out = {(0, 0, 0): 1.0}
        for _ in range(cast(int, power)):
            out = _product(out, left)
        return out
    right = _expand(node.right)
    if isinstance(node.op, ast.Mult):
        return _product(left, right)
    if isinstance(node.op, ast.Div):
        divisor = right.get((0, 0, 0), 0.0)
        if set(right) - {(0, 0, 0)} or divisor == 0.0:
            raise ValueError("division by anything but a non-zero number")
        return {e: c / divisor for e, c in left.items()}
    sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
    out = dict(left)
    for e, c in right.items():
        out[e] = out.get(e, 0.0) + sign * c
    return out


def polynomial_function(text: str) -> Polynomial:
    """The polynomial written in ``text`` as :func:`polynomial_string` writes it
    (``sqrt(3)/2*kx**2*ky - ky**3/2``), callable as f(kx, ky, kz) on numpy arrays of
    Cartesian k, with its degree.

    Only arithmetic (+, −, ×, /, integer powers up to :data:`MAX_POWER`) of kx, ky, kz, numbers
    and ``sqrt`` of a number, dividing only by numbers, is read; anything else (free
    coefficients included: :func:`free_coefficients`) raises ``ValueError``, so text from a
    store or a file runs nothing else.
    """
    tree, _ = _checked(text, coefficients=False)
    try:
        terms = _expand(tree.body)
        code = compile(tree, "<polynomial>", "eval")
    except (RecursionError, OverflowError) as exc:
        raise ValueError(f"not a polynomial in kx, ky, kz: {text!r}") from exc
    except ValueError as exc:
        raise ValueError(f"not a polynomial in kx, ky, kz: {text!r} ({exc})") from exc
    return Polynomial(text, terms, code)


def free_coefficients(text: str) -> list[str]:
    """Names other than kx, ky, kz in a form factor, sorted.

    A spin Laue group that allows several independent harmonics has the form factor
    ``a1*(kx**2 - ky**2) + a2*(kx*ky)`` (²4/¹m), whose coefficients a1, a2 depend on the
    material; a single harmonic has none. Raises ``ValueError`` for anything but arithmetic
    of those names, as :func:`polynomial_function` does.
    """
    return sorted(_checked(text, coefficients=True)[1])

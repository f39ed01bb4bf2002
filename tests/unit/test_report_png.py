"""Figures become PNGs cropped to their content: what savefig with a tight box would give."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from altermag.reports.figures import PAD_INCHES, plt, to_png


def _image(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _savefig_tight(fig: plt.Figure, dpi: int) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=PAD_INCHES)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1, 2], [0, 2, 1], color="red", lw=3)
    ax.set_xlabel("kx (Å⁻¹)")
    ax.set_title("sign of f(k)")
    fig.suptitle("a title near the top edge of the figure")
    return fig


def test_png_is_the_tight_savefig_image() -> None:
    """Same size (to a pixel of rounding) and the same pixels as savefig's tight box."""
    reference = _savefig_tight(_figure(), 110)
    image = _image(to_png(_figure(), dpi=110))
    assert image.ndim == 3 and image.shape[2] == 3  # opaque RGB
    assert abs(image.shape[0] - reference.shape[0]) <= 2
    assert abs(image.shape[1] - reference.shape[1]) <= 2
    h, w = min(image.shape[0], reference.shape[0]), min(image.shape[1], reference.shape[1])
    best = min(
        np.mean(
            np.abs(
                image[dy : dy + h - 2, dx : dx + w - 2].astype(int)
                - reference[1 : h - 1, 1 : w - 1]
            )
        )
        for dy in range(3)
        for dx in range(3)
    )
    assert best < 1.0  # grey levels out of 255: the same drawing, aligned to a pixel
    red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red.sum() > 100  # the line is in the picture


def test_png_margin_is_white_and_tight() -> None:
    """A background margin of about :data:`PAD_INCHES` on every side, no more: the content
    (glyph edges may differ from their boxes by a few pixels) starts right after it."""
    image = _image(to_png(_figure(), dpi=100))
    pad = int(PAD_INCHES * 100)
    drawn = np.argwhere(np.any(image < 255, axis=2))
    top, left = drawn.min(axis=0)
    bottom, right = np.array(image.shape[:2]) - 1 - drawn.max(axis=0)
    for margin in (top, left, bottom, right):
        assert pad // 2 <= margin <= pad + 3


def test_content_outside_the_figure_is_kept() -> None:
    """A label beyond the figure's right edge widens the image instead of being cut off."""
    fig = _figure()
    width = fig.get_size_inches()[0] * 100
    fig.text(1.02, 0.5, "beyond the edge", color="blue", fontsize=14)
    image = _image(to_png(fig, dpi=100))
    assert image.shape[1] > width
    blue = (image[..., 2] > 150) & (image[..., 0] < 60)
    assert blue[:, int(width) :].any()

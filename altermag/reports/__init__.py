"""Classification reports (HTML, JSON, PDF) for materials and screening runs."""

from __future__ import annotations

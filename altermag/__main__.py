"""``python -m altermag``: the command line."""

from altermag.cli import entry_point

entry_point()

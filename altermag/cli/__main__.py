"""``python -m altermag.cli``: the ``altermag`` command."""

from altermag.cli import entry_point

entry_point()

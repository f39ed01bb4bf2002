"""``python -m altermag.cli``: the ``altermag`` command."""

from altermag.cli import app

app(prog_name="altermag")

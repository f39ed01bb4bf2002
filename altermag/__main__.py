"""``python -m altermag``: the command line."""

from altermag.cli import app

app(prog_name="altermag")

"""`python -m telemed` is the `telemed` command."""

from telemed.cli import app

app()

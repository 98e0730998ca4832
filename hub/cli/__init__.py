"""The ``crmhub`` command line (Typer)."""

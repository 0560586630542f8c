"""The `kqlhunt` command line: run, hunt, demo, rules list, explain, lint, catalog (typer + rich).

Exit codes: 0 success, 1 the query or a rule failed (diagnostics on stderr), 2 usage error.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kqlhunt import __version__
from kqlhunt.cli.catalog import catalog_command
from kqlhunt.cli.common import EXIT_FAILED, echo_err, internal_error
from kqlhunt.cli.explain import explain_command
from kqlhunt.cli.hunt import demo_command, hunt_command
from kqlhunt.cli.ingest import ingest_command
from kqlhunt.cli.lint import lint_command
from kqlhunt.cli.rules import rules_app
from kqlhunt.cli.run import run_command

app = typer.Typer(
    name="kqlhunt",
    help="Run KQL threat hunts verbatim on local telemetry (DuckDB).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"kqlhunt {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Run KQL threat hunts verbatim on local telemetry (DuckDB)."""


app.command("run")(run_command)
app.command("hunt")(hunt_command)
app.command("demo")(demo_command)
app.command("explain")(explain_command)
app.command("lint")(lint_command)
app.command("catalog")(catalog_command)
app.command("ingest")(ingest_command)
app.add_typer(rules_app, name="rules")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. Never shows a Python traceback for a failure (KQLHUNT_DEBUG=1 does)."""
    try:
        app(args=argv, prog_name="kqlhunt")
    except KeyboardInterrupt:
        echo_err("interrupted")
        sys.exit(130)
    except Exception as exc:
        echo_err(internal_error(exc, "kqlhunt"))
        sys.exit(EXIT_FAILED)


__all__ = ["app", "main"]

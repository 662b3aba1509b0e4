"""Exit codes and the errors that carry them: one line `newswire: error: …` on stderr, never a traceback.

As in sqlite-utils, an expected failure is a `click.ClickException` subclass raised where it is found;
click prints it and exits with its code, so click's test runner sees the same code a shell does.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, ClassVar

import click

from scheduling.commands import EXIT_COMPLETE as EXIT_OK
from scheduling.commands import EXIT_CRASHED, EXIT_FAILED, EXIT_PARTIAL, EXIT_USAGE

__all__ = ["EXIT_CRASHED", "EXIT_FAILED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE"]
EXIT_LOCKED = 75  # scheduling.lock.EXIT_LOCKED (EX_TEMPFAIL), not imported: it would load SQLAlchemy for --help


class CommandError(click.ClickException):
    """An expected failure: one error line, then exit with `exit_code` (2: bad usage or input)."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"newswire: error: {self.format_message()}", file=file, err=file is None)


class UsageProblem(CommandError):
    """Bad options, a bad registry or an unusable --db: nothing was done (exit 2)."""


class Failed(CommandError):
    """The command could not do its job: a database, file or network failure (exit 3)."""

    exit_code = EXIT_FAILED


class Locked(CommandError):
    """Another crawl of the same database is running; nothing was done (exit 75)."""

    exit_code = EXIT_LOCKED


def require_extra(module: str, extra: str, purpose: str) -> None:
    """Refuse `purpose` in one line when `module`, which only newswire's `extra` installs, cannot be imported."""
    try:
        import_module(module)
    except ImportError as exc:
        raise UsageProblem(f"{purpose} needs the {module} package ({exc}): pip install 'newswire[{extra}]'") from None


class NewswireGroup(click.Group):
    """The command group that turns the failures every command can meet — the database's, the file
    system's — into a Failed line (exit 3). Anything else is a bug: main() prints its traceback and exits 70."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # click's three lines (usage, hint, error) become one, as every error
            raise UsageProblem(f"{exc.format_message()} (see: {_help_for(exc)})") from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except SQLAlchemyError as exc:
            raise Failed(f"database: {str(exc).splitlines()[0]}") from None
        except OSError as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from None


def _help_for(error: click.UsageError) -> str:
    """The --help of the command a usage error is about ("newswire crawl --help")."""
    subcommand = (error.ctx.command_path if error.ctx is not None else "").partition(" ")[2]
    return " ".join(filter(None, ("newswire", subcommand, "--help")))


def exit_code_for(status: str) -> int:
    """0 for a complete run, 1 for a partial or interrupted one, 3 for a failed one."""
    return {"complete": EXIT_OK, "partial": EXIT_PARTIAL, "interrupted": EXIT_PARTIAL}.get(status, EXIT_FAILED)

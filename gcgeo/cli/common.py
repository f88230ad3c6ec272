"""What every ``gcgeo`` command shares: the group, messages, progress, tables and options.

Errors the user can fix end with a one-paragraph message and exit status 2;
problems found by ``validate`` exit with status 1; a fault in gcgeo itself
exits with status 3.  ``-o/--out``, ``--overwrite`` and ``--lang`` are defined
once here and mean the same in every command.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import __version__
from .._errors import GcgeoError

__all__ = [
    "Cli",
    "configure_logging",
    "console",
    "fmt",
    "labelled_table",
    "lang_option",
    "main",
    "out",
    "out_option",
    "overwrite_option",
    "progress",
    "quiet",
    "run",
    "say",
    "table",
    "warn_stale",
    "workspace_argument",
]

log = logging.getLogger("gcgeo")
# Messages wrap softly (a path is never broken); tables written to a file or a
# pipe get room enough not to fold their cells.
console = Console(stderr=True, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 200)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler ending a job), raised where the command is, so it
    ends as on Ctrl-C: temporary files removed, the workspace as it was (exit 143)."""


def _terminate(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second one must not cut the cleanup
    raise Terminated()


class Cli(click.Group):
    """Turn gcgeo's own errors into one-paragraph messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GcgeoError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            sys.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except OSError as exc:  # the system refused: permissions, full disk, a file in the way
            where = exc.filename or "a file"
            console.print(f"[bold red]error:[/] cannot read or write {escape(str(where))}: "
                          f"{escape(str(exc.strerror or exc))}. Check the path and its permissions.",
                          highlight=False)
            sys.exit(2)
        except KeyboardInterrupt as exc:
            why = "terminated" if isinstance(exc, Terminated) else "interrupted"
            console.print(f"[red]{why}[/]: the workspace was left as it was before this command.")
            sys.exit(143 if isinstance(exc, Terminated) else 130)
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if log.isEnabledFor(logging.DEBUG):
                raise
            console.print(
                f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
                "This is a fault in gcgeo, not in your data; the workspace was left unchanged. "
                "Rerun with -v to see the details and report them.",
                highlight=False,
            )
            sys.exit(3)


def configure_logging(verbose: int, quiet: bool) -> None:
    """The CLI's output: warnings by default, -v info, -vv debug, -q errors only."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    handler = RichHandler(console=console, show_time=False, show_path=False)
    root = logging.getLogger("gcgeo")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # matplotlib reports every font fallback; a planner needs none of it
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcgeo")
@click.option("-v", "--verbose", count=True, help="More detail (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """gcgeo — inventory, analyses and maps for green communities and 15-minute living circles."""
    configure_logging(verbose, quiet)
    ctx.obj = {"quiet": quiet}


def run() -> None:
    """The ``gcgeo`` command as the console runs it: :data:`main`, then a quick exit.

    Once the command has ended (its files written and closed, its exit status
    known), the interpreter's teardown, which frees every module of the
    scientific stack one by one, serves nothing and takes a tenth of a second
    (of three for ``gcgeo analyze`` on a city).  So the output is flushed, the
    exit handlers run and the process ends with the command's status.  Where a
    thread is still running, the interpreter exits as usual and waits for it.
    SIGTERM ends the command as Ctrl-C does, its temporary files removed (exit 143).
    """
    if threading.current_thread() is threading.main_thread():
        # only the command line: a library call or a dask worker keeps the default
        signal.signal(signal.SIGTERM, _terminate)
    try:
        main.main(prog_name="gcgeo")
        code: int = 0
    except SystemExit as exc:  # as the interpreter reads it: None 0, a number, a message 1
        if exc.code is None or isinstance(exc.code, int):
            code = int(exc.code or 0)
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or the stream was closed
        code = code or 120  # (the interpreter's status when it cannot flush at exit)
    logging.shutdown()
    atexit._run_exitfuncs()
    os._exit(code)


def quiet() -> bool:
    """True under ``-q``: print nothing but errors."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and (ctx.find_root().obj or {}).get("quiet"))


def say(*objects: Any) -> None:
    """Print a result line or table on standard output (nothing under ``-q``)."""
    if not quiet():
        out.print(*objects)


def warn(lines: Iterable[str]) -> None:
    """Print ``lines`` as warnings on standard error (nothing under ``-q``): what a result
    shown needs said with it, such as a scorecard that no longer holds."""
    from rich.markup import escape

    if quiet():
        return
    for line in lines:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner whose text follows the library's progress(stage) calls."""
    if quiet() or not console.is_terminal:
        def step(stage: str) -> None:
            log.info("%s: %s", label, stage)
        yield step
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label)

        def step(stage: str) -> None:
            bar.update(task, description=f"{label}: {stage}")

        yield step


def fmt(v: Any) -> str:
    """A cell of a plain table."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


def table(df: Any, title: str | None = None, max_rows: int = 40, more: str = "") -> Table:
    """A rich table of the first ``max_rows`` rows of ``df``; ``more`` says where the rest is."""
    t = Table(title=title, show_lines=False)
    for col in df.columns:
        t.add_column(str(col), overflow="fold")
    for _, row in df.head(max_rows).iterrows():
        t.add_row(*[fmt(v) for v in row])
    if len(df) > max_rows:
        t.caption = f"… {len(df) - max_rows} more rows{more}"
    return t


def labelled_table(df: Any, lang: str, *, title: str, max_rows: int = 20, more: str = "") -> Table:
    """A summary table with the same column labels and number formats as maps and reports."""
    from ..labels import column_label, format_value

    t = Table(title=title)
    for col in df.columns:
        t.add_column(column_label(str(col), lang), overflow="fold")
    for _, row in df.head(max_rows).iterrows():
        t.add_row(*[format_value(v, str(c), lang) or "–" for c, v in row.items()])
    if len(df) > max_rows:
        t.caption = f"… {len(df) - max_rows} more rows{more}"
    return t


def warn_stale(workspace: Path, found: dict[str, list[str]] | None = None) -> None:
    """Say which analyses' stored results predate a change to their inputs."""
    from ..pipeline import stale, stale_message

    if quiet():
        return
    found = stale(workspace) if found is None else found
    for name, changed in found.items():
        console.print(f"[yellow]stale:[/] {stale_message(workspace, name, changed)}", highlight=False)


# --- options shared by the commands -------------------------------------------------

#: WORKSPACE: one GeoPackage per study area.
workspace_argument = click.argument("workspace", type=click.Path(dir_okay=False, path_type=Path))


def out_option(help: str, *, required: bool = True, default: Any = None, file: bool = True):
    """``-o/--out``: what the command writes (``--output`` is accepted too)."""
    kind = click.Path(dir_okay=not file, file_okay=file, path_type=Path)
    return click.option("-o", "--out", "--output", "output", type=kind, required=required,
                        default=default, show_default=default is not None, help=help)


#: ``--overwrite``: replace what exists: an output file, or a workspace layer of the same name.
overwrite_option = click.option(
    "--overwrite", is_flag=True,
    help="Replace what exists already: output files, or workspace layers of the same name.")

#: ``--lang``: the language of labels, tables, maps and reports.
lang_option = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                           help="Language of labels, tables, legends, popups and reports.")

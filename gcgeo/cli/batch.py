"""``gcgeo batch``: many study areas in one run on a dask cluster."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from .common import console, lang_option, main, quiet, say

__all__ = ["batch"]


def _quiet_workers() -> None:
    """On each worker, as in the command itself: no font fallback notes from matplotlib."""
    import logging

    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def _line(res, n: int, total: int) -> None:
    """One line per area as it finishes."""
    if res.status == "failed":
        what = "fault" if res.fault else "failed"
        console.print(f"[{n}/{total}] [bold red]{what}[/] {escape(res.name)}: {escape(res.error or '')}",
                      highlight=False)
        return
    if quiet():
        return
    parts = []
    if res.imported:
        parts.append("imported " + ", ".join(res.imported))
    if res.ran:
        parts.append("ran " + ", ".join(res.ran))
    if res.current:
        parts.append(f"{len(res.current)} current")
    if res.skipped:
        parts.append("skipped " + ", ".join(f"{n} (no {'/'.join(k)} layer)"
                                            for n, k in res.skipped.items()))
    if res.report:
        parts.append(f"report {res.report}")
    if res.results:
        parts.append(f"{len(res.results)} result layer(s)")
    status = "[green]done[/]" if res.status == "done" else "[dim]unchanged[/]"
    console.print(f"[{n}/{total}] {status} {escape(res.name)} ({res.seconds:.1f} s): "
                  f"{escape('; '.join(parts) or 'nothing to do')}", highlight=False)


@main.command()
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--scheduler", help="Address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
              "(default: a local cluster on this machine).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Local cluster: worker processes (default: one per core).")
@click.option("--memory-limit", help="Local cluster: memory per worker, e.g. 4GiB (default: memory / workers).")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds to wait for --scheduler to answer (default 10).")
@click.option("--analysis", "analyses", multiple=True,
              help="Run only this analysis (repeatable; default: every analysis an area has layers for).")
@click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rules file for every area (an area's own `rules` still wins).")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the areas' reports (default: reports/ beside the project file).")
@click.option("--no-reports", is_flag=True, help="Write no reports (only import and analyse).")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of every area's output layers as GeoParquet, RESULTS/<layer>/<area>.parquet "
                   "(default: results/ beside the project file).")
@click.option("--no-results", is_flag=True, help="Write no GeoParquet results (nor a database).")
@click.option("--database", help="Also write the combined results to this PostGIS database, "
              "e.g. postgresql://user@host/db?schema=province (tables replaced).")
@click.option("--force", is_flag=True, help="Import, analyse and report every area again, current or not.")
@lang_option
@click.pass_context
def batch(ctx: click.Context, project: Path, scheduler: str | None, workers: int | None,
          memory_limit: str | None, connect_timeout: float | None, analyses: tuple[str, ...],
          rules: Path | None, reports: Path | None, no_reports: bool, results: Path | None,
          no_results: bool, database: str | None, force: bool, lang: str) -> None:
    """Bring every study area of PROJECT up to date: import, analyses, report.

    PROJECT is a TOML project file ([batch] settings and one [[area]] table
    per study area: name, workspace, inputs) or a folder of workspaces. The
    areas run side by side on dask.distributed: a local cluster by default,
    or the cluster at --scheduler. What has not changed since the last run
    is skipped. Exit status 0 when every area succeeded, 1 when some failed,
    2 when the project file or the scheduler cannot be used.
    """
    from ..batch import read_project, run_batch

    lang_given = ctx.get_parameter_source("lang") == click.core.ParameterSource.COMMANDLINE
    proj = read_project(project, scheduler=scheduler, workers=workers, memory_limit=memory_limit,
                        connect_timeout=connect_timeout, analyses=analyses or None,
                        rules=rules.resolve() if rules else None,
                        reports=False if no_reports else reports.resolve() if reports else None,
                        results=False if no_results else results.resolve() if results else None,
                        database=database,
                        lang=lang if lang_given else None)
    where = proj.scheduler or f"a local cluster of {proj.workers or 'one worker per core'}"
    if not quiet():
        console.print(f"{len(proj.areas)} study area(s) on {escape(str(where))}", highlight=False)
    from ..batch import connect

    with connect(proj) as client:
        client.run(_quiet_workers)
        outcome = run_batch(proj, client=client, force=force, progress=_line)
    failed = [r for r in outcome if r.status == "failed"]
    done = sum(r.status == "done" for r in outcome)
    unchanged = sum(r.status == "unchanged" for r in outcome)
    say(f"{done} done, {unchanged} unchanged, {len(failed)} failed of {len(outcome)} area(s)")
    if proj.results is not None and proj.results.is_dir():
        say(f"results of every area: {proj.results} (GeoParquet, one folder per layer)")
        if proj.database:
            from ..batch.results import to_database

            tables = to_database(proj.results, proj.database)
            say(f"{len(tables)} table(s) written to the database: {', '.join(tables)}")
    if failed:
        console.print(f"[bold red]{len(failed)} area(s) failed:[/] "
                      f"{escape(', '.join(r.name for r in failed))}; the others are up to date. "
                      "Fix what each message says and run the batch again: only what is not "
                      "current runs.", highlight=False)
        ctx.exit(1)

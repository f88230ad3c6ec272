"""``gcgeo analyze WS NAME`` and ``gcgeo rules``, generated from the analyses' descriptors.

Each registered analysis is a subcommand of ``analyze`` whose options are
its descriptor's options (``--walking-speed`` for ``walking_speed``), plus
``--rules`` and ``--lang``.  Nothing here names an analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from .. import analysis as _analysis
from .common import labelled_table, lang_option, main, progress, say, table, workspace_argument

__all__ = ["analyze", "analysis_command", "rules_cmd"]

_CLICK_TYPES: dict[str, Any] = {
    "float": float,
    "int": int,
    "path": click.Path(dir_okay=False, path_type=Path),
    "file": click.Path(exists=True, dir_okay=False, path_type=Path),
    "date": click.DateTime(formats=["%Y-%m-%d"]),
}


def _click_option(opt: _analysis.Option) -> Any:
    """The click option for one declared option."""
    helptext = opt.help_en + (f" (rule {opt.rule})" if opt.rule else "")
    if opt.type == "bool":
        flag = opt.flag[2:]
        return click.option(f"--{flag}/--no-{flag}", opt.name, default=None, help=helptext)
    kind = click.Choice(list(opt.choices)) if opt.type == "choice" else _CLICK_TYPES[opt.type]
    return click.option(opt.flag, opt.name, type=kind, default=opt.default, help=helptext)


def analysis_command(desc: _analysis.Analysis) -> click.Command:
    """The ``gcgeo analyze WS <name>`` command of one analysis."""

    @click.pass_context
    def command(ctx: click.Context, rules_file: Path | None, lang: str, **options: Any) -> None:
        from .._gc import frozen
        from ..pipeline import run_analysis

        workspace: Path = ctx.obj["workspace"]
        # a command runs once and exits: keeping the collector off the inputs is safe here
        with progress(desc.name) as step, frozen(collect=False):
            outputs, summary = run_analysis(workspace, desc.name, rules=rules_file,
                                            progress=step, **options)
        say(f"{desc.name}: wrote {_written(desc, outputs)} to {workspace}")
        if summary is not None and len(summary):
            where = next((o.name for o in desc.outputs if "communities" in o.name), desc.outputs[0].name)
            say(labelled_table(summary, lang, title=desc.label(lang), max_rows=20,
                               more=f"; all rows are in layer {where}"))

    params = [_click_option(o) for o in reversed(desc.options)]
    for p in params:
        command = p(command)
    command = lang_option(command)
    command = click.option(
        "--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"Your TOML overriding built-in rules ({', '.join(desc.rule_sets)}).")(command)
    doc = f"{desc.label_en} ({desc.label_zh}): {desc.description_en}."
    return click.command(name=desc.name, help=doc, short_help=desc.label_en)(command)


def _written(desc: _analysis.Analysis, outputs: Mapping[str, Any]) -> str:
    """The layers written with their rows; an empty one with what its output says of that."""
    why = {o.name: o.when_empty for o in desc.outputs}
    return ", ".join(f"{name} ({len(frame):,} row{'' if len(frame) == 1 else 's'})"
                     if len(frame) or not why.get(name) else f"{name} (none: {why[name]})"
                     for name, frame in outputs.items())


class _Analyses(click.Group):
    """The analyses as subcommands, made from the registry when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _analysis.names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        try:
            name = _analysis.canonical(cmd_name)
        except Exception:  # noqa: BLE001 - click reports an unknown command itself
            return None
        from .._gc import paused

        with paused():  # (the analysis's modules are imported here)
            return analysis_command(_analysis.get(name))


@main.group(cls=_Analyses)
@workspace_argument
@click.pass_context
def analyze(ctx: click.Context, workspace: Path) -> None:
    """Run an analysis on WORKSPACE and store its results there.

    `gcgeo analyze WS NAME --help` lists the options of analysis NAME.
    """
    ctx.obj = {**(ctx.obj or {}), "workspace": workspace}


@main.command(name="rules")
@click.argument("name", required=False)
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your TOML overriding rules: show the rules as an analysis given it applies them.")
def rules_cmd(name: str | None, rules_file: Path | None) -> None:
    """Show the rules (thresholds with their clause and status) of every analysis, or of NAME.

    NAME is an analysis (its rule sets are shown) or a rule set.  With --rules, the rules
    as overridden by that file (a figure it sets without a clause is its local rule).
    """
    import pandas as pd

    from .. import rules

    users: dict[str, list[str]] = {}
    for desc in _analysis.descriptors().values():
        for s in desc.rule_sets:
            users.setdefault(s, []).append(desc.name)
    if name is None:
        sets = rules.available()
    elif name.replace("-", "_") in _analysis.names():
        sets = list(_analysis.get(name).rule_sets)
    else:
        sets = [name]
    rows = []
    for n in sets:
        def walk(node: Any, prefix: str, n: str = n) -> None:
            if isinstance(node, dict):
                if "value" in node:
                    rows.append({"rule": prefix, "value": node["value"], "unit": node.get("unit", ""),
                                 "clause": node.get("clause", ""), "status": node.get("status", ""),
                                 "used by": ", ".join(users.get(n, []))})
                    return
                for k, v in node.items():
                    walk(v, f"{prefix}.{k}" if prefix else k, n)
        walk(rules.load(n, rules_file), n)
    say(table(pd.DataFrame(rows), max_rows=500))

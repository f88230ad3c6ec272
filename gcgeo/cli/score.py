"""``gcgeo score``: the 16-criterion scorecard, the attestation template and the county's progress."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    lang_option,
    main,
    out_option,
    overwrite_option,
    progress,
    say,
    table,
    warn,
    warn_stale,
    workspace_argument,
)

__all__ = ["score_cmd"]


def _measured_text(card, lang: str) -> dict[tuple[str, int], str]:
    """What the analyses measured, per community and criterion, for the template's reference column."""
    from ..score import labels as L

    out = {}
    for r in card.scorecard.itertuples(index=False):
        if not r.measured_status:
            continue
        text = L.value("measured_status", r.measured_status, lang)
        figures = " / ".join(f for f in (r.figure, r.threshold) if f)
        if figures:
            text += f"（{figures}）" if lang == "zh" else f" ({figures})"
        out[(r.community_id, int(r.criterion))] = text
    return out


@main.command(name="score")
@workspace_argument
@click.option("--attest", "attest", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Filled attestation file (.xlsx from --template, .csv or .toml); repeat for several. "
                   "Replaces the attestations stored by an earlier run; without it those are used again.")
@click.option("--as-of", "as_of", metavar="DATE",
              help="Assessment date, YYYY-MM-DD (default: today). Attestations dated later do not count; "
                   "scorecards are kept per date.")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the attestation spreadsheet (.xlsx) for street offices to fill in, and stop.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your TOML overriding the rule set score (targets, conflicts.prefer, statuses).")
@out_option("Also write the scorecard to this Excel file (.xlsx): the community × criterion matrix, the "
            "county, the blocking criteria and every row.", required=False)
@lang_option
@overwrite_option
def score_cmd(workspace: Path, attest: tuple[Path, ...], as_of: str | None, template: Path | None,
              rules_file: Path | None, output: Path | None, lang: str, overwrite: bool) -> None:
    """Score WORKSPACE's communities against the 16 criteria of the Shandong Green Community standard.

    Measured criteria come from the analyses that have run; the others from attestations
    (--attest). Stores scorecard, score_communities, score_county and score_history in the
    workspace and prints the county's share against its targets.
    """
    from .. import io
    from .. import score as sc
    from .. import workspace as ws
    from ..score import labels as L
    from ..score.export import check_xlsx_name, export_xlsx

    when = sc.as_of_date(as_of)
    if output is not None:
        check_xlsx_name(output)
    inputs = [workspace, *attest]  # never written over, even with --overwrite
    for target in (template, output):
        if target is not None:
            io.check_output(target, inputs=inputs, overwrite=overwrite)
    with progress("scoring") as step:
        if attest:
            step("reading attestations")
            comm = ws.read_layer(workspace, "communities")
            from ..values import feature_ids

            attestations = sc.read_attestations(list(attest), communities=feature_ids(comm))
        elif "score_attestations" in set(ws.list_layers(workspace, counts=False)["layer"]):
            attestations = ws.read_layer(workspace, "score_attestations")
        else:
            attestations = None
        step("scoring")
        card = sc.score(workspace, attestations=attestations, as_of=when, rules=rules_file, lang=lang)
        if template is not None:
            sc.write_template(template, card.communities, card.standard, lang=lang,
                              measured=_measured_text(card, lang), overwrite=overwrite, inputs=inputs)
        else:
            step("writing")
            sc.store(workspace, card)
            if output is not None:
                export_xlsx(card, output, lang=lang, overwrite=overwrite, inputs=inputs)
    if template is not None:
        say(f"attestation template written to [bold]{template}[/] ({len(card.communities)} communities × 16 "
            f"criteria); fill it in and read it with `gcgeo score {workspace} --attest {template.name}`")
        warn(card.warnings)
        return
    labels = {t.name: t.label(lang) for t in card.standard.targets}  # (stored in Chinese)
    county = card.county.assign(target_label=card.county["target"].map(labels).fillna(card.county["target_label"]))
    county = county.drop(columns=["target", "clause", "as_of", "blocking_criteria", "closest_communities"])
    say(table(L.frame(county, lang), title=card.standard.name(lang) + f" · {when.isoformat()}"))
    cols = ["community_id", "community_name", "criteria_met", "criteria_unknown", "meets_standard", "not_met",
            "unknown"]
    per = card.communities.sort_values(["short", "community_id"])
    say(table(L.frame(per[cols], lang), max_rows=30, more="; all rows are in layer score_communities"))
    if len(card.blocking):
        block = card.blocking.head(5).copy()
        block.insert(1, "short_label", [card.standard.criterion(int(n)).short(lang) for n in block["criterion"]])
        say(table(L.frame(block.drop(columns=["communities"]), lang),
                  title="主要阻碍项" if lang == "zh" else "Blocking criteria"))
    conflicts = int(card.scorecard["conflict"].sum())
    if conflicts:
        say(f"{conflicts} criteria where measurement and attestation disagree (column conflict of layer scorecard)")
    say(f"scorecard written to {workspace} (scorecard, score_communities, score_county, score_history)"
        + (f" and {output}" if output else ""))
    warn(card.warnings)
    warn_stale(workspace)


@main.command(name="dossier")
@workspace_argument
@click.argument("communities", nargs=-1)
@out_option("Folder for the dossiers (<id>.html and <id>.pdf per community).", file=False)
@click.option("--all", "all_", is_flag=True, help="A dossier for every community of the scorecard.")
@click.option("--no-pdf", is_flag=True, help="HTML only (the PDF needs headless Chromium).")
@lang_option
@overwrite_option
def dossier_cmd(workspace: Path, communities: tuple[str, ...], output: Path, all_: bool, no_pdf: bool, lang: str,
                overwrite: bool) -> None:
    """Write a submission-ready dossier (HTML and PDF) for COMMUNITIES (ids or names) of WORKSPACE.

    Each holds the community's 16 criteria with status, figures, clauses and evidence, a map of
    the community with its findings, and its attestations, from the scorecard stored by
    `gcgeo score`.
    """
    from .._errors import InputError
    from ..score import current
    from ..score.dossier import write_dossiers

    if bool(communities) == all_:
        raise InputError("name the communities (ids or names) or give --all, not both and not neither.")
    with progress("writing dossiers"):
        card = current(workspace, lang=lang)
        written = write_dossiers(workspace, output, None if all_ else list(communities), lang=lang, pdf=not no_pdf,
                                 overwrite=overwrite, scorecard=card)
    for cid, files in written.items():
        say(f"{cid}: " + ", ".join(str(p) for p in files.values()))
    warn(card.warnings if card is not None else [])
    warn_stale(workspace)


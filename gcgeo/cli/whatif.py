"""``gcgeo whatif WS --add-facility FILE | --remove-facility IDS | --open-link FILE |
--close-street IDS``: the living circle after a change, per community and criterion."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import lang_option, main, out_option, overwrite_option, progress, say, table, workspace_argument
from .site import read_points

__all__ = ["whatif_cmd"]

_FILE = click.Path(dir_okay=False, path_type=Path)


def _pct(v: float) -> str:
    return "–" if v != v else f"{v * 100:.1f}%"


def _wide(frame):
    """Per community one row: residents and, per tier, share before → after."""
    import pandas as pd

    rows = {}
    for _, r in frame.iterrows():
        key = r["community_id"]
        row = rows.setdefault(key, {"community": r["community_name"] if isinstance(r["community_name"], str)
                                    else key, "residents": r["residents"]})
        row[str(r["tier"])] = (f"{_pct(r['share_before'])} → {_pct(r['share_after'])}"
                               + (f" ({r['share_change'] * 100:+.1f})" if abs(r["share_change"]) > 1e-12
                                  else ""))
    out = pd.DataFrame(list(rows.values()))
    changed = frame.groupby("community_id", sort=False)["share_change"].apply(
        lambda s: bool((s.abs() > 1e-12).any())).to_numpy()
    return out[changed] if changed.any() else out


@main.command(name="whatif")
@workspace_argument
@click.option("--add-facility", "add_file", type=_FILE,
              help="Points file of new facilities with a 'category' column.")
@click.option("--remove-facility", "remove_ids",
              help="Ids of facilities to take away (layer facilities), separated by commas.")
@click.option("--open-link", "link_file", type=_FILE, help="Lines file of new streets or paths.")
@click.option("--close-street", "close_ids",
              help="Ids of streets to close (layer streets), separated by commas.")
@click.option("--src-crs", help="CRS of the files when they have none (wgs84, gcj02, EPSG:…).")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your TOML overriding built-in rules (living_circle, network).")
@out_option("Also write the change per community to this file (CSV, XLSX, GeoPackage…).", required=False)
@overwrite_option
@lang_option
def whatif_cmd(workspace: Path, add_file: Path | None, remove_ids: str | None, link_file: Path | None,
               close_ids: str | None, src_crs: str | None, rules_file: Path | None,
               output: Path | None, overwrite: bool, lang: str) -> None:
    """The living circle of WORKSPACE after a change: share of residents served per
    community and tier before and after, and criterion 10 over the study area.

    Only what the change touches is recomputed (new facilities: one search from them;
    removed facilities: their categories; links and closed streets: the network). The
    change goes to layers whatif_communities and whatif_criteria (replaced only with
    --overwrite); the living-circle results are left as they are.
    """
    from .. import workspace as ws
    from .._errors import InputError, OutputExistsError
    from ..export import check_output, export, export_driver
    from ..pipeline import read_with_network
    from ..planning import load_state
    from ..planning.whatif import whatif

    inputs = [workspace] + [p for p in (add_file, link_file) if p is not None]
    if output is not None:  # refused before anything is computed or stored
        export_driver(output)
        check_output(output, inputs=inputs, overwrite=overwrite)
    files = {}
    for key, path, option in (("add_facility", add_file, "--add-facility"), ("open_link", link_file, "--open-link")):
        if path is not None:
            if not path.exists():
                raise InputError(f"{option} {path}: no such file.")
            files[key] = read_points(path, option, src_crs)
    if not files and remove_ids is None and close_ids is None:
        raise InputError("give a change: --add-facility FILE, --remove-facility IDS, --open-link FILE "
                         "or --close-street IDS.")
    present = set(ws.list_layers(workspace, counts=False)["layer"].astype(str))
    clash = [n for n in ("whatif_communities", "whatif_criteria") if n in present]
    if clash and not overwrite:
        raise OutputExistsError(f"workspace {workspace} already has layer(s) {', '.join(clash)} from an "
                                "earlier what-if; give --overwrite to replace them.")
    with progress("what-if") as step:
        step("reading layers")
        layers, graph, keep_network = read_with_network(workspace, "living_circle", rules=rules_file)
        step("living circle as it is")
        state = load_state(layers, rules=str(rules_file) if rules_file else None, graph=graph)
        step("the change")
        res = whatif(state, add_facility=files.get("add_facility"), remove_facility=remove_ids,
                     open_link=files.get("open_link"), close_street=close_ids,
                     names={"add_facility": f"--add-facility {add_file}",
                            "open_link": f"--open-link {link_file}"})
        step("writing")
        ws.write_layers(workspace, {"whatif_communities": res.communities, "whatif_criteria": res.criteria},
                        source="gcgeo whatif", meta={"whatif": json.dumps({"change": res.change})})
        if keep_network is not None:  # a network built now is kept once the results are stored
            keep_network()
    if output is not None:
        export(res.communities, output, overwrite=overwrite, inputs=inputs, lang=lang)
    say(table(_wide(res.communities), title=f"what-if: {res.change}", max_rows=30,
              more="; all rows are in layer whatif_communities"))
    crit = res.criteria.assign(**{c: res.criteria[c].map(_pct)
                                  for c in ("share_before", "share_after", "share_change")})
    say(table(crit, title="criterion 10 (15-minute living circle), share of residents served"))
    say(f"wrote layers whatif_communities, whatif_criteria to {workspace}" + (f" and {output}" if output else ""))

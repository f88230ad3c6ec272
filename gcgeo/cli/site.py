"""``gcgeo site WS --category C --k K``: where K new facilities serve the most residents."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import lang_option, main, out_option, overwrite_option, progress, say, table, workspace_argument

__all__ = ["site_cmd"]


def read_points(path: Path, option: str, src_crs: str | None):
    """A points file named by ``option``, read as ``gcgeo add`` reads files; a file
    that cannot be read is an error naming the option."""
    from .. import io
    from .._errors import GcgeoError, InputError

    try:
        return io.read_vector(path, src_crs=src_crs)
    except GcgeoError as exc:
        raise InputError(f"{option} {path}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's
        raise InputError(f"{option} {path} cannot be read ({type(exc).__name__}: {exc}); give a "
                         "GeoPackage, Shapefile, GeoJSON, KML or CSV with x/y columns.") from exc


@main.command(name="site")
@workspace_argument
@click.option("--category", required=True, help="Facility category to site (e.g. kindergarten).")
@click.option("--k", "k", type=int, required=True, help="Number of sites to choose.")
@click.option("--candidates", type=click.Path(dir_okay=False, path_type=Path),
              help="Points file of candidate sites (default: every street node).")
@click.option("--src-crs", help="CRS of the candidates file when it has none (wgs84, gcj02, EPSG:…).")
@click.option("--tier", help="Tier whose distance counts (default: the nearest tier requiring the category).")
@click.option("--method", type=click.Choice(["auto", "exact", "greedy"]), default="auto", show_default=True,
              help="exact: mixed-integer programme (HiGHS); greedy: with its bound; auto: exact up to "
                   "3000 candidates and 1,000,000 home-site pairs, greedy beyond.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your TOML overriding built-in rules (living_circle, network).")
@out_option("Also write the chosen sites to this file (GeoPackage, Shapefile, GeoJSON, CSV…).",
            required=False)
@overwrite_option
@lang_option
def site_cmd(workspace: Path, category: str, k: int, candidates: Path | None, src_crs: str | None,
             tier: str | None, method: str, rules_file: Path | None, output: Path | None,
             overwrite: bool, lang: str) -> None:
    """Choose the K sites for a CATEGORY facility that bring the most residents not yet
    served within walking reach (the maximal covering location problem).

    Exact (HiGHS mixed-integer programme) up to 3000 candidates, greedy beyond with an
    upper bound on the best possible. The sites go to layer lc_sites (replacing earlier
    sites of the same category only with --overwrite) and appear in `gcgeo map`.
    """
    import pandas as pd

    from .. import workspace as ws
    from .._errors import InputError, OutputExistsError
    from ..export import check_output, export, export_driver
    from ..pipeline import read_with_network
    from ..planning import load_state
    from ..planning.siting import merge_sites, site, stored_categories

    inputs = [workspace] + ([candidates] if candidates is not None else [])
    if output is not None:  # refused before anything is computed or stored
        export_driver(output)
        check_output(output, inputs=inputs, overwrite=overwrite)
    cand = None
    if candidates is not None:
        if not candidates.exists():
            raise InputError(f"--candidates {candidates}: no such file.")
        cand = read_points(candidates, "--candidates", src_crs)
    present = set(ws.list_layers(workspace, counts=False)["layer"].astype(str))
    stored = ws.read_layer(workspace, "lc_sites") if "lc_sites" in present else None
    with progress("siting") as step:
        step("reading layers")
        layers, graph, keep_network = read_with_network(workspace, "living_circle", rules=rules_file)
        step("living circle")
        state = load_state(layers, rules=str(rules_file) if rules_file else None, graph=graph)
        state.check_category(category)
        step("choosing sites")
        res = site(state, category, k, candidates=cand, tier=tier, method=method,
                   what=f"--candidates {candidates}")
        if not len(res.sites):
            say(f"no site brings anyone new within {res.required_m:.0f} m of a {category}: "
                f"{res.residents_unserved:,.0f} residents are unserved, none within reach of a candidate.")
            return
        if category in stored_categories(stored) and not overwrite:
            raise OutputExistsError(f"layer lc_sites already holds sites for {category}; give "
                                    "--overwrite to replace them.")
        step("writing")
        ws.write_layers(workspace, {"lc_sites": merge_sites(stored, res.sites)},
                        source=f"gcgeo site --category {category} --k {k}",
                        meta={f"site:{category}": json.dumps(res.summary(), default=float)})
        if keep_network is not None:  # a network built now is kept once the sites are stored
            keep_network()
    if output is not None:
        export(res.sites, output, overwrite=overwrite, inputs=inputs, lang=lang)
    shown = res.sites.drop(columns="geometry")[["site_rank", "candidate_id", "residents_new", "homes_new",
                                                "residents_reached"]]
    say(table(pd.DataFrame(shown), title=f"{category}: {len(res.sites)} site(s), {res.tier} "
              f"({res.required_m:.0f} m)"))
    how = ("optimal (HiGHS)" if res.method == "exact" and res.optimal else
           f"greedy; no choice of {k} can serve more than {res.upper_bound:,.0f}"
           if res.method == "greedy" else f"best found in the time limit; at most {res.upper_bound:,.0f}")
    say(f"newly served: {res.residents_new:,.0f} of {res.residents_unserved:,.0f} unserved residents "
        f"({res.residents_reachable:,.0f} within reach of a candidate); {how}.")
    say(f"wrote layer lc_sites to {workspace}" + (f" and {output}" if output else ""))

"""`gcgeo analyze` imports only what the command uses: no web-map library to write the
workspace's QGIS styles, no graph library for a stored or compiled network, no plotting."""

from __future__ import annotations

import subprocess
import sys

import pyogrio
from _grid import grid_workspace

#: Libraries no analysis command needs (folium draws maps; matplotlib figures; networkx
#: graphs given by a caller), what folium would bring with it, and what only drawing
#: isochrones needs (scipy.ndimage).
_NOT_NEEDED = ("folium", "branca", "jinja2", "requests", "matplotlib", "networkx", "scipy.ndimage")

_RUN = """
import sys
from gcgeo.cli import main
main(sys.argv[1:], standalone_mode=False)
print("IMPORTED", *sorted(n for n in %r if n in sys.modules))
"""


def _imported(*args: str) -> list[str]:
    res = subprocess.run([sys.executable, "-c", _RUN % (_NOT_NEEDED,), *args],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = [x for x in res.stdout.splitlines() if x.startswith("IMPORTED")][-1]
    return line.split()[1:]


def test_living_circle_command_imports_no_map_or_graph_library(tmp_path):
    path = grid_workspace(tmp_path / "grid.gpkg")
    for _ in range(2):  # the network built and kept, then read back
        assert _imported("analyze", str(path), "living-circle", "--isochrones", "none") == []
    # the styles were written all the same (QGIS opens the layers styled)
    styles = pyogrio.read_dataframe(path, layer="layer_styles")
    assert {"lc_origins", "lc_communities"} <= set(styles["f_table_name"])

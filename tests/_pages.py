"""The layers' data of a map page gcgeo wrote, read back here (``gcgeo.maps._pack``)."""

from __future__ import annotations

import base64
import json
import re
import zlib
from typing import Any


def layer_calls(html: str) -> list[tuple[dict[str, Any], int]]:
    """Each ``L.gcgeoLayer(data, options)`` of the page: its data as written and where it ends."""
    dec = json.JSONDecoder()
    return [dec.raw_decode(html, m.end()) for m in re.finditer(r"L\.gcgeoLayer\(", html)]


def inflated(pack: dict[str, Any]) -> dict[str, Any]:
    """A layer's data, inflated with zlib when the page holds it deflated ({z, n, b}); the
    sizes it states checked against what it holds."""
    if "z" not in pack:
        return pack
    raw = zlib.decompress(base64.b64decode(pack["z"]), wbits=-15)
    assert len(raw) == pack["b"]
    out = json.loads(raw.decode("utf-8"))
    assert pack["n"] == (len(out["g"]) // 2 if out["k"] == "point" else len(out["g"]))
    return out

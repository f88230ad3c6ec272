"""Intake at its edges: a CSV cut short, Shapefile field names cut inside a character, point
layers holding MultiPoints, and where an attestation file's rows are."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcgeo import FileFormatError, io
from gcgeo import workspace as ws
from gcgeo.cli import main

HEADER = "id,name,lon,lat\n"
ROWS = ["1,鱼邱湖,116.201234,36.851234", "2,金城路,116.202345,36.852345",
        "3,人和街,116.203456,36.853456"]


def _csv(tmp_path: Path, text: str, name: str = "poi.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- a CSV cut short ----------------------------------------------------------------------


@pytest.mark.parametrize("last", ["3,116.203456,36.853456", "3,116.203456,36.85", "3,116.20"])
def test_a_csv_cut_inside_its_last_row_is_refused_by_line(tmp_path, last):
    # name last: a row cut before it keeps its coordinates, and was read without a word
    rows = ["1,116.201234,36.851234,鱼邱湖", "2,116.202345,36.852345,金城路", last]
    path = _csv(tmp_path, "id,lon,lat,name\n" + "\n".join(rows))  # no final line break
    fields = last.count(",") + 1  # the cut row's fields, fewer than the header's 4
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 4 ({fields} fields): fewer fields than the 4 its "
                           "header names; line 4 ends the file without a line break, so the "
                           "file was cut short")


def test_a_short_row_mid_file_is_refused_by_line(tmp_path):
    # the name left out of line 3: its coordinates are whole, so only the field count tells
    path = _csv(tmp_path, HEADER + f"{ROWS[0]}\n2,116.202345,36.852345\n{ROWS[2]}\n")
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 3 (3 fields): fewer fields than the 4 its header names")
    assert "Give every row all 4 fields" in text and "cut short" not in text


def test_a_last_value_with_fewer_decimals_is_read_with_a_warning(tmp_path, caplog):
    whole = _csv(tmp_path, HEADER + "\n".join(ROWS), "whole.csv")  # honest: no final line break
    cut = _csv(tmp_path, HEADER + "\n".join(ROWS[:2] + ["3,人和街,116.203456,36.8"]), "cut.csv")
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = io.read_vector(whole, src_crs="wgs84")
    assert _warnings(caplog) == []
    assert got.geometry.y.tolist() == [36.851234, 36.852345, 36.853456]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = io.read_vector(cut, src_crs="wgs84")
    assert got["name"].tolist() == ["鱼邱湖", "金城路", "人和街"]
    assert got.geometry.y.tolist() == [36.851234, 36.852345, 36.8]
    [warning] = _warnings(caplog)
    assert warning.startswith(f"{cut}, line 4, column 'lat': the file ends without a line break")
    assert "'36.8' has 1 decimal(s) where the column's other values have 6" in warning


def test_a_csv_ending_inside_a_character_is_refused(tmp_path):
    raw = "id,lon,lat,name\n1,116.201234,36.851234,鱼邱湖\n3,116.203456,36.853456,人和街".encode()
    path = tmp_path / "poi.csv"
    path.write_bytes(raw[:-1])  # 街 is three bytes: two are left
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    assert str(err.value).startswith(f"{path}, line 3: the file ends in the middle of a character")


def test_a_quote_never_closed_at_the_end_names_its_line(tmp_path):
    path = _csv(tmp_path, HEADER + "\n".join(ROWS[:2]) + '\n3,"人和街, 东,116.203456,36.853456')
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 4: a quote opened in that row is never closed")
    assert "cut short" in text


def test_gcgeo_add_refuses_a_cut_csv_naming_the_line(tmp_path):
    w = tmp_path / "w.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(w), "--name", "高唐"]).exit_code == 0
    path = _csv(tmp_path, "id,kind,lon,lat\nc1,car,116.201234,36.851234\nc2,car,116.2023")
    res = runner.invoke(main, ["add", str(w), "chargers", str(path), "--src-crs", "wgs84"])
    assert res.exit_code != 0
    assert f"{path}, line 3 (3 fields)" in " ".join(res.output.split())
    assert "chargers" not in {str(n) for n in ws.list_layers(w)["layer"]}

"""The one-transaction import path: placeholder images and rows checked like every other write."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import box

from exact_lab.errors import InvalidGeometryError


def test_a_placeholder_image_holds_each_value_in_its_own_column(project):
    """The placeholder insert once wrote the import file's path into source_format (positional
    VALUES); every column is checked here by name."""
    project.import_table(
        pd.DataFrame({"image": ["a.svs"], "type": ["mitosis"], "geometry": [box(1, 1, 9, 9)]}),
        image_set="s", images=pd.DataFrame({"name": ["a.svs"], "width": [2220], "height": [2967],
                                           "meta": [{"stain": "HE"}]}),
        source_file="/data/exports/labels.json",
    )
    row = project._store.df("SELECT * FROM images").iloc[0].to_dict()
    assert row["name"] == row["public_name"] == "a.svs"
    assert (row["width"], row["height"], row["levels"], row["frames"]) == (2220, 2967, 1, 1)
    assert row["placeholder"] and not row["pseudonymized"] and row["added_by"] == "alice"
    for column in ("path", "mpp", "objective_power", "checksum", "vendor", "source_format"):
        assert pd.isna(row[column]), column
    assert row["meta"] == '{"stain": "HE"}'
    assert "/data/exports/labels.json" not in {str(v) for v in row.values()}
    # the import file is named where an import is recorded: in its snapshot's message
    assert project.snapshots()["commit_message"].iloc[-1] == "import /data/exports/labels.json"


def test_added_images_keep_their_source_format_and_vendor(project, small_svs):
    row = project.add_images([small_svs]).iloc[0]
    assert row["source_format"] == "svs" and row["vendor"] == "aperio" and row["levels"] >= 1
    assert row["path"].endswith("CMU-1-Small-Region.svs") and not row["placeholder"]


def test_an_import_row_is_checked_like_every_other_write_and_names_its_row(project):
    before = project._store.current_snapshot()
    table = pd.DataFrame({"image": ["a.svs"] * 3, "type": ["tumor"] * 3,
                          "geometry": [box(0, 0, 5, 5), box(0, 0, 6, 6), box(0, 0, 1e300, 5)]})
    with pytest.raises(InvalidGeometryError, match="row 2: coordinates beyond"):
        project.import_table(table, types={"tumor": {"vector_type": "polygon"}})
    assert project._store.current_snapshot() == before


def test_an_imported_polygon_that_crosses_itself_is_kept_as_the_file_has_it_and_reported(project):
    from shapely.geometry import Polygon

    crossing = Polygon([(0, 0), (20, 0), (20, 10), (10, -5), (0, 10)])
    report = project.import_table(pd.DataFrame({"image": ["a.svs"] * 2, "type": ["tumor"] * 2,
                                                "geometry": [box(0, 0, 5, 5), crossing]}),
                                  types={"tumor": {"vector_type": "polygon"}})
    assert report["imported"] == 2
    assert report["warnings"] == ["1 polygon annotation(s) cross themselves (rows 1); stored as the file has them"]
    assert project.annotations()["geometry"].iloc[1].equals_exact(crossing, 0)

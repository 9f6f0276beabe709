"""Teams, users, products, annotation types, image sets and images."""

from __future__ import annotations

import re

import pytest
from shapely.geometry import box

from exact_lab.errors import DuplicateNameError, InvalidValueError, UnknownImageError, UnsupportedSlideError


def test_teams_members_products(project):
    project.add_team("lab")
    project.add_member("lab", "bob")
    project.add_member("lab", "alice", role="admin")
    members = project.memberships()
    assert sorted(zip(members["username"], members["role"])) == [("alice", "admin"), ("bob", "member")]
    assert set(project.users()["username"]) == {"alice", "bob"}
    with pytest.raises(InvalidValueError, match="role"):
        project.add_member("lab", "eve", role="owner")
    with pytest.raises(DuplicateNameError):
        project.add_team("lab")
    project.add_product("panel", team="lab")
    project.add_annotation_type("mitosis", "box", color="#E6194B", default_size=(50, 40), product="panel")
    project.add_annotation_type("cell", "point")
    types = project.annotation_types()
    assert types["name"].tolist() == ["mitosis", "cell"]  # sort order = number keys
    assert types["sort_order"].tolist() == [1, 2]
    first = types.iloc[0]
    assert (first["color"], first["default_width"], first["default_height"]) == ("#e6194b", 50, 40)
    assert re.match(r"^#[0-9a-f]{6}$", types.iloc[1]["color"])  # a colour is picked when none is given
    assert project.annotation_types(product="panel")["name"].tolist() == ["mitosis"]


def test_type_validation(project):
    with pytest.raises(InvalidValueError, match="unknown vector type"):
        project.add_annotation_type("x", "hexagon")
    with pytest.raises(InvalidValueError, match="colour"):
        project.add_annotation_type("x", "box", color="red")
    with pytest.raises(InvalidValueError, match="default_size"):
        project.add_annotation_type("x", "fixed_box")
    project.add_annotation_type("x", "circle")
    assert project.annotation_types()["vector_type"].tolist() == ["ellipse"]
    with pytest.raises(DuplicateNameError):
        project.add_annotation_type("x", "box")
    project.update_annotation_type("x", color="#00ff00", sort_order=5)
    assert project.annotation_types()["color"].iloc[0] == "#00ff00"


def test_image_sets_and_images(project, small_svs, shared_data):
    project.add_product("panel")
    project.add_image_set("CCMCT", mode="blind", products=["panel"], description="dogs")
    with pytest.raises(InvalidValueError, match="collaboration mode"):
        project.add_image_set("bad", mode="chaos")
    images = project.add_images([small_svs, shared_data / "slides" / "hamamatsu" / "test3-DAPI-2-(387).ndpi"],
                                image_set="CCMCT")
    first = images.iloc[0]
    assert (first["width"], first["height"], first["levels"]) == (2220, 2967, 1)
    assert first["mpp"] == pytest.approx(0.499) and first["objective_power"] == 20
    assert first["vendor"] == "aperio"
    assert first["checksum"].startswith("ed92d5a9f2e86df6")  # PROVENANCE.md's sha256 prefix
    assert images.iloc[1]["levels"] > 1
    sets = project.image_sets()
    assert sets["mode"].tolist() == ["blind"] and list(sets["products"].iloc[0]) == ["panel"]
    assert sets["image_count"].tolist() == [2]
    assert project.image("CMU-1-Small-Region.svs")["image_id"] == first["image_id"]
    with pytest.raises(UnknownImageError):
        project.image(999)
    with pytest.raises(UnsupportedSlideError, match="nope.svs"):
        project.add_images(["/nonexistent/nope.svs"])


def test_pseudonymized_images_hide_the_private_name(project, small_svs):
    project.add_image_set("blinded", pseudonymize=True)
    row = project.add_images([small_svs], image_set="blinded").iloc[0]
    assert row["name"] == "CMU-1-Small-Region.svs"  # the kernel keeps the private name
    assert re.match(r"^\d{6}-\d{4}-[0-9a-f]{8}\.svs$", row["public_name"])
    assert "CMU" not in row["public_name"] and row["pseudonymized"]


def test_placeholder_from_import_is_filled_by_add_images(project, small_svs):
    import pandas as pd

    report = project.import_table(
        pd.DataFrame({"image": ["CMU-1-Small-Region.svs"], "type": ["mitosis"], "geometry": [box(1, 1, 9, 9)]}),
        image_set="s", images=pd.DataFrame({"name": ["CMU-1-Small-Region.svs"], "width": [2220], "height": [2967]}),
    )
    assert report["placeholders"] == 1 and report["created_types"] == ["mitosis"]
    holder = project.images().iloc[0]
    assert holder["placeholder"] and holder["width"] == 2220 and pd.isna(holder["path"])
    filled = project.add_images([small_svs], image_set="s").iloc[0]
    assert filled["image_id"] == holder["image_id"] and not filled["placeholder"]
    assert filled["path"].endswith("CMU-1-Small-Region.svs")
    assert len(project.images()) == 1
    assert project.annotations()["image_id"].tolist() == [holder["image_id"]]


def test_import_table_is_all_or_nothing(project):
    import pandas as pd

    from exact_lab.errors import InvalidGeometryError

    table = pd.DataFrame({"image": ["a.png", "b.png"], "type": ["cell", "cell"],
                          "geometry": [box(0, 0, 1, 1), box(0, 0, 1, 1).exterior]})
    with pytest.raises(InvalidGeometryError):
        project.import_table(table, image_set="s", types={"cell": {"vector_type": "box"}})
    assert project.images().empty and project.annotation_types().empty and project.image_sets().empty

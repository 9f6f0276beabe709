"""Collaboration modes and team membership, enforced by the store for every read path."""

from __future__ import annotations

import pytest
from shapely.geometry import box

import exact_lab as xl
from exact_lab.errors import PermissionDeniedError


def _blind_study(location, slide, data=None):
    """lead (admin) makes a blind set; alice and bob (members) each draw one box."""
    lead = xl.open_project(location, data=data, user="lead")
    lead.add_team("lab")
    lead.add_member("lab", "lead", "admin")
    lead.add_member("lab", "alice")
    lead.add_member("lab", "bob")
    lead.add_annotation_type("cell", "box")
    lead.add_image_set("blind study", mode="blind", team="lab")
    image_id = int(lead.add_images([slide], image_set="blind study")["image_id"].iloc[0])
    alice = xl.open_project(location, data=data, user="alice")
    bob = xl.open_project(location, data=data, user="bob")
    (mine,) = alice.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(0, 0, 50, 50)}])
    (his,) = bob.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(100, 0, 150, 50)}])
    alice.commit("v1")
    bob.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(200, 0, 250, 50)}])
    return lead, alice, bob, image_id, mine, his


def _every_read_of(proj, image_id, tmp_path) -> dict:
    """The uuids each read path returns."""
    proj.export_annotations(tmp_path / f"{proj.user}.csv", "csv")
    viewer = proj.viewer(image_id)
    out = {
        "annotations": set(proj.annotations()["uuid"]),
        "of the image": set(proj.annotations(image=image_id)["uuid"]),
        "of the set": set(proj.annotations(image_set="blind study")["uuid"]),
        "relation": {r[0] for r in proj.annotations(as_relation=True).select("uuid").fetchall()},
        "version": set(proj.annotations(version="v1")["uuid"]),
        "viewer": set(viewer.annotations["uuid"].dropna()),
        "sql": {r[0] for r in proj.sql("SELECT uuid::VARCHAR FROM annotations").fetchall()},
        "diff": set(proj.diff("v1")["uuid"]),
        "count": proj.count_annotations(),
        "export lines": (tmp_path / f"{proj.user}.csv").read_text().count("\n") - 1,
    }
    viewer.close()
    return out


def _check_blind(lead, alice, bob, image_id, mine, his, tmp_path):
    seen = _every_read_of(alice, image_id, tmp_path)
    for path in ("annotations", "of the image", "of the set", "relation", "version", "viewer", "sql"):
        assert seen[path] == {mine}, path
    assert seen["diff"] == set() and len(bob.diff("v1")) == 1  # bob's later box: only he sees the change
    assert seen["count"] == 1 and seen["export lines"] == 1
    bobs = {r[0] for r in bob.sql("SELECT uuid::VARCHAR FROM annotations").fetchall()}
    assert his in bobs and mine not in bobs and len(bobs) == 2
    with pytest.raises(PermissionDeniedError):
        alice.reveal("blind study")  # only an admin ends the blind phase
    assert len(lead.annotations()) == 3  # the admin sees everything
    lead.share_guides([his])
    assert set(alice.annotations()["uuid"]) == {mine, his}  # a shared guide is seen by all
    lead.reveal("blind study")
    (late,) = bob.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(300, 0, 350, 50)}])
    assert {mine, his, late} < set(alice.annotations()["uuid"])
    assert len(alice.sql("SELECT uuid FROM annotations").fetchall()) == 4


def test_a_blind_set_hides_other_users_annotations_from_every_read_until_revealed(tmp_path, small_svs):
    parts = _blind_study(tmp_path / "p", small_svs)
    try:
        _check_blind(*parts, tmp_path)
    finally:
        for proj in parts[:3]:
            proj.close()


@pytest.mark.postgres
def test_the_same_blind_set_in_team_mode(team_catalog, tmp_path, small_svs):
    url, data = team_catalog
    parts = _blind_study(url, small_svs, data=data)
    try:
        _check_blind(*parts, tmp_path)
    finally:
        for proj in parts[:3]:
            proj.close()


@pytest.mark.postgres
def test_a_non_member_is_refused_reads_of_the_teams_set(team_catalog, small_svs):
    # membership holds in team mode (a PostgreSQL catalog): a folder project is one user's
    url, data = team_catalog
    lead = xl.open_project(url, data=data, user="lead")
    lead.add_team("lab")
    lead.add_member("lab", "lead", "admin")
    lead.add_annotation_type("cell", "box")
    lead.add_image_set("private", team="lab")
    image_id = int(lead.add_images([small_svs], image_set="private")["image_id"].iloc[0])
    lead.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(0, 0, 9, 9)}])
    eve = xl.open_project(url, data=data, user="eve")
    with pytest.raises(PermissionDeniedError, match="eve is not a member of the team of image set 'private'"):
        eve.annotations(image=image_id)
    with pytest.raises(PermissionDeniedError):
        eve.annotations(image_set="private")
    with pytest.raises(PermissionDeniedError):
        eve.viewer(image_id)
    assert len(eve.annotations()) == 0  # reads over everything leave the set out
    assert eve.sql("SELECT count(*) FROM annotations").fetchone()[0] == 0
    with pytest.raises(PermissionDeniedError, match="admin"):
        eve.add_member("lab", "eve", "admin")  # only an admin manages members
    lead.add_member("lab", "eve")
    assert len(eve.annotations(image=image_id)) == 1
    log = lead.membership_log()
    assert list(log[["username", "role", "action", "changed_by"]].itertuples(index=False, name=None))[-1] == (
        "eve", "member", "add", "lead")
    lead.close()
    eve.close()

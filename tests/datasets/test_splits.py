"""Virtual image sets and splits: never an image or a group in two splits, reproducible."""

from __future__ import annotations

import json

import pytest

from exact_lab.errors import DuplicateNameError, InvalidValueError

FRACTIONS = {"train": 0.7, "val": 0.15, "test": 0.15}


def test_a_virtual_set_refers_to_images_of_another_set_without_copying_them(project, image_files):
    ids = project.add_images(image_files(3), image_set="all")["image_id"].tolist()
    project.add_image_set("picked", images=ids[:2])
    project.add_image_set("also", images=[ids[1]])
    assert project.images(image_set="picked")["image_id"].tolist() == ids[:2]
    assert project.images(image_set="also")["image_id"].tolist() == [ids[1]]
    assert len(project.images()) == 3  # no copies
    sets = project.image_sets().set_index("name")
    assert sets.loc["picked", "image_count"] == 2 and sets.loc["picked", "member_count"] == 2
    assert sets.loc["all", "image_count"] == 3 and sets.loc["all", "member_count"] == 0
    assert project.add_to_image_set("picked", ids) == 1  # only the third was new
    assert project.remove_from_image_set("picked", [ids[0]]) == 1
    assert project.images(image_set="picked")["image_id"].tolist() == ids[1:]
    with pytest.raises(Exception, match="no image 999"):
        project.add_image_set("bad", images=[999])
    assert "bad" not in set(project.image_sets()["name"])


def test_annotations_of_a_virtual_set_are_those_of_its_member_images(patients_project):
    proj = patients_project
    ids = proj.images(image_set="all")["image_id"].tolist()
    proj.add_image_set("two", images=[ids[3], ids[5]])
    got = proj.annotations(image_set="two")
    assert sorted(set(got["image_id"])) == [ids[3], ids[5]]
    assert len(got) == 3 + 5


def test_splits_never_share_an_image_and_cover_the_set(patients_project):
    proj = patients_project
    result = proj.split("all", FRACTIONS, seed=1)
    members = {name: set(proj.images(image_set=name)["image_id"]) for name in FRACTIONS}
    assert not (members["train"] & members["val"]) and not (members["train"] & members["test"])
    assert not (members["val"] & members["test"])
    assert set().union(*members.values()) == set(proj.images(image_set="all")["image_id"])
    assert {n: set(result.loc[result["split"] == n, "image_id"]) for n in FRACTIONS} == members
    assert all(members.values())  # 12 images: each split gets some
    description = json.loads(proj.image_sets().set_index("name").loc["val", "description"])
    assert description["split"] == "val" and description["seed"] == 1 and description["source"] == "all"


def test_a_group_is_never_in_two_splits(patients_project):
    proj = patients_project
    for seed in range(5):
        result = proj.split("all", FRACTIONS, by="patient", seed=seed, prefix=f"s{seed}-")
        patients_per_split = result.groupby("group")["split"].nunique()
        assert (patients_per_split == 1).all(), result
        assert set(result["group"]) == {"p0", "p1", "p2", "p3", "p4"}


def test_balancing_shares_out_annotations_as_well_as_images(patients_project):
    proj = patients_project
    result = proj.split("all", {"a": 0.5, "b": 0.5}, seed=0)
    per_split = result.groupby("split").agg(images=("image_id", "size"), annotations=("annotations", "sum"))
    total = per_split["annotations"].sum()
    assert total == sum(range(12))
    assert abs(per_split.loc["a", "annotations"] - total / 2) <= 6  # the largest single image holds 11
    assert per_split["images"].tolist() == [6, 6]
    unbalanced = proj.split("all", {"a": 0.5, "b": 0.5}, seed=0, balance=False, prefix="u-")
    assert unbalanced.groupby("split").size().tolist() == [6, 6]


def test_the_same_seed_gives_the_same_split_and_another_seed_may_not(patients_project):
    proj = patients_project
    first = proj.split("all", FRACTIONS, seed=3)
    again = proj.split("all", FRACTIONS, seed=3, replace=True)
    assert first.equals(again)
    others = [proj.split("all", FRACTIONS, seed=s, prefix=f"x{s}-")["split"].tolist() for s in range(6)]
    assert len({tuple(o) for o in others}) > 1


def test_a_version_reproduces_the_split_after_it_was_redone(patients_project):
    proj = patients_project
    proj.split("all", FRACTIONS, seed=0)
    proj.commit("v1")
    at_v1 = {name: proj.images(image_set=name)["image_id"].tolist() for name in FRACTIONS}
    proj.split("all", FRACTIONS, seed=7, replace=True)
    now = {name: proj.images(image_set=name)["image_id"].tolist() for name in FRACTIONS}
    assert now != at_v1
    assert {name: proj.images(image_set=name, version="v1")["image_id"].tolist() for name in FRACTIONS} == at_v1
    # annotations of the split at the version follow the membership at the version
    train_v1 = proj.annotations(image_set="train", version="v1")
    assert set(train_v1["image_id"]) <= set(at_v1["train"])
    # splitting the version again reproduces it
    redone = proj.split("all", FRACTIONS, seed=0, version="v1", prefix="again-")
    assert {n: sorted(redone.loc[redone["split"] == n, "image_id"]) for n in FRACTIONS} == {
        n: sorted(v) for n, v in at_v1.items()}


def test_bad_splits_are_refused_and_write_nothing(patients_project):
    proj = patients_project
    before = len(proj.image_sets())
    with pytest.raises(InvalidValueError, match="add up to 0.9"):
        proj.split("all", {"train": 0.7, "val": 0.2})
    with pytest.raises(InvalidValueError, match="must be >= 0"):
        proj.split("all", {"train": 1.2, "val": -0.2})
    with pytest.raises(InvalidValueError, match="has no 'site'"):
        proj.split("all", FRACTIONS, by="site")
    with pytest.raises(InvalidValueError, match="no image set 'nope'"):
        proj.split("nope", FRACTIONS)
    assert len(proj.image_sets()) == before
    proj.split("all", FRACTIONS)
    with pytest.raises(DuplicateNameError, match="train"):
        proj.split("all", FRACTIONS)
    with pytest.raises(InvalidValueError, match="holds images of its own"):
        proj.split("all", {"all": 1.0}, replace=True)

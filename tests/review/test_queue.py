"""The review queue and consensus."""

from __future__ import annotations

import pytest
from shapely.geometry import box

import exact_lab as xl
from exact_lab.errors import InvalidValueError


@pytest.fixture
def proposals(review_project):
    proj, image_id = review_project
    rows = [{"image_id": image_id, "type": "cell", "geometry": box(i * 50, 0, i * 50 + 30, 30), "score": s,
             "source": "detector v1", "creator": "model"} for i, s in enumerate([0.9, 0.2, 0.55, 0.7])]
    uuids = proj.add_annotations(rows)
    return proj, image_id, uuids


def test_the_queue_orders_and_leaves_out_what_the_user_judged(proposals):
    proj, _, uuids = proposals
    queue = proj.review_queue()
    assert list(queue["uuid"]) == [uuids[0], uuids[3], uuids[2], uuids[1]]
    assert list(proj.review_queue(order_by="uncertainty")["uuid"][:2]) == [uuids[2], uuids[3]]
    proj.verify(uuids[0])
    proj.verify(uuids[1], verified=False)
    assert list(proj.review_queue()["uuid"]) == [uuids[3], uuids[2]]
    everything = proj.review_queue(only_unverified=False).set_index("uuid")
    assert everything.loc[uuids[1], "my_verdict"] is False and everything.loc[uuids[0], "verified"] == 1
    # bob's queue still holds everything
    assert len(proj.review_queue(user="bob")) == 4
    with pytest.raises(InvalidValueError):
        proj.review_queue(order_by="colour")


def test_consensus_counts_distinct_users_and_exports_take_min_verifications(proposals, tmp_path):
    proj, _, uuids = proposals
    bob = xl.open_project(proj.location, user="bob")
    proj.verify(uuids[:2])
    bob.verify(uuids[0])
    bob.verify(uuids[1], verified=False)
    table = proj.consensus().set_index("uuid")
    assert table.loc[uuids[0], ["verified", "rejected", "accepted"]].tolist() == [2, 0, True]
    assert table.loc[uuids[1], ["verified", "rejected", "accepted"]].tolist() == [1, 1, False]
    assert not table.loc[uuids[2], "accepted"]
    two = proj.consensus(min_verifications=2).set_index("uuid")
    assert two["accepted"].sum() == 1
    proj.export_annotations(tmp_path / "all.csv", "csv")
    proj.export_annotations(tmp_path / "accepted.csv", "csv", min_verifications=1)
    assert (tmp_path / "all.csv").read_text().count("\n") == 5  # header + 4 boxes
    assert (tmp_path / "accepted.csv").read_text().count("\n") == 2  # header + the one accepted
    bob.close()


def test_second_opinion_needs_n_distinct_users_and_queues_others_work(review_project):
    proj, _ = review_project
    proj.add_image_set("second", mode="second_opinion", required_verifications=2)
    image_id = int(proj.add_images([proj.image(1)["path"]], image_set="second")["image_id"].iloc[0])
    (mine,) = proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(0, 0, 9, 9)}])
    (theirs,) = proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(20, 0, 29, 9),
                                       "creator": "carol"}])
    queue = proj.review_queue(image_set="second")
    assert list(queue["uuid"]) == [theirs]  # a second opinion is someone else's
    proj.verify(theirs)
    bob = xl.open_project(proj.location, user="bob")
    assert not bob.consensus(image_set="second").set_index("uuid").loc[theirs, "accepted"]
    assert set(bob.review_queue(image_set="second")["uuid"]) == {mine, theirs}
    bob.verify(theirs)
    table = bob.consensus(image_set="second").set_index("uuid")
    assert table.loc[theirs, ["verified", "required", "accepted"]].tolist() == [2, 2, True]
    assert list(bob.review_queue(image_set="second", user="dave")["uuid"]) == [mine]  # accepted: off the queue
    bob.close()


def test_a_user_name_with_a_quote_gets_a_queue(proposals):
    """The queue writes the user into its query as a literal (faster over the lake than a parameter)."""
    proj, _, uuids = proposals
    other = xl.open_project(proj.location, user="o'brien")
    other.verify(uuids[0])
    assert list(other.review_queue()["uuid"]) == [uuids[3], uuids[2], uuids[1]]
    assert other.review_queue(only_unverified=False).set_index("uuid").loc[uuids[0], "my_verdict"] is True
    other.close()

"""Team mode: a user who is not a member of an image set's team is refused every write to it."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

import exact_lab as xl
from exact_lab.errors import EditRefusedError, PermissionDeniedError

pytestmark = pytest.mark.postgres

REFUSED = "eve is not a member of team 'lab', which owns image set 'private'"


@pytest.fixture
def team(team_catalog, small_svs):
    """lead (admin of 'lab') owns the set 'private' with one image and one box; eve is no member;
    an open set 'open' with an image anyone may write to."""
    url, data = team_catalog
    lead = xl.open_project(url, data=data, user="lead")
    lead.add_team("lab")
    lead.add_member("lab", "lead", "admin")
    lead.add_annotation_type("cell", "box")
    tumour = lead.add_annotation_type("tumour", "mask")
    lead.add_image_set("private", team="lab")
    image_id = int(lead.add_images([small_svs], image_set="private")["image_id"].iloc[0])
    open_id = int(lead.add_images([small_svs], image_set="open")["image_id"].iloc[0])
    (uuid,) = lead.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(0, 0, 9, 9)}])
    eve = xl.open_project(url, data=data, user="eve")
    yield lead, eve, image_id, open_id, uuid, tumour
    eve.close()
    lead.close()


def test_every_write_of_a_non_member_to_the_set_is_refused(team):
    lead, eve, image_id, open_id, uuid, tumour = team
    before = len(lead.snapshots())
    row = {"image_id": image_id, "type": "cell", "geometry": box(20, 20, 30, 30)}
    writes = {
        "add_annotations": lambda: eve.add_annotations([row]),
        "update_annotations": lambda: eve.update_annotations([{"uuid": uuid, "description": "mine now"}]),
        "delete_annotations": lambda: eve.delete_annotations([uuid]),
        "undelete_annotations": lambda: eve.undelete_annotations([uuid]),
        "session.add": lambda: eve.session.add([row]),
        "session.update": lambda: eve.session.update(uuid, geometry=box(1, 1, 5, 5)),
        "verify": lambda: eve.verify([uuid], False),
        "save_screening": lambda: eve.save_screening(image_id),
        "set_mask": lambda: eve.set_mask(image_id, np.full((8, 8), tumour, np.uint8)),
        "paint_stroke": lambda: eve.paint_stroke(image_id, [(10, 10), (40, 10)], 3.0, "tumour"),
        "mark_done": lambda: eve.mark_done(image_id),
    }
    for name, write in writes.items():
        with pytest.raises(PermissionDeniedError, match=REFUSED) as caught:
            write()
        assert f"image {image_id}" in str(caught.value), name
    assert eve.session.pending == 0  # nothing was queued

    # a queued delete is refused alone at commit, naming the reason; the other edit lands
    eve.session.delete([uuid])
    (other,) = eve.session.add([{**row, "image_id": open_id}])
    with pytest.raises(EditRefusedError, match=REFUSED):
        eve.flush()

    stored = lead.annotations()
    assert set(stored["uuid"]) == {uuid, other}
    kept = stored.set_index("uuid").loc[uuid]
    assert not kept["deleted"] and not isinstance(kept["description"], str)
    assert lead.verifications().empty
    assert lead.screening(image_id, user="eve") is None
    assert not lead.mask(image_id, region=(0, 0, 64, 64)).any()
    assert len(lead.snapshots()) == before + 1  # only eve's add to the open set


def test_a_new_member_may_write_at_once(team):
    lead, eve, image_id, _, uuid, _ = team
    with pytest.raises(PermissionDeniedError, match=REFUSED):
        eve.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(20, 20, 30, 30)}])
    lead.add_member("lab", "eve")  # another process's membership change reaches eve's cached rules
    (new,) = eve.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(20, 20, 30, 30)}])
    eve.update_annotations([{"uuid": uuid, "description": "checked"}])
    stored = lead.annotations().set_index("uuid")
    assert new in stored.index and stored.loc[uuid, "description"] == "checked"


def test_folder_projects_enforce_no_membership(tmp_path, small_svs):
    # anyone with the files can write them: membership means something only on the team's server
    lead = xl.open_project(tmp_path / "p", user="lead")
    lead.add_team("lab")
    lead.add_member("lab", "lead", "admin")
    lead.add_annotation_type("cell", "box")
    lead.add_image_set("private", team="lab")
    image_id = int(lead.add_images([small_svs], image_set="private")["image_id"].iloc[0])
    eve = xl.open_project(tmp_path / "p", user="eve")
    eve.add_annotations([{"image_id": image_id, "type": "cell", "geometry": box(0, 0, 9, 9)}])
    assert len(lead.annotations()) == 1
    eve.close()
    lead.close()

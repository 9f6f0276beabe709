"""The viewer's model without any widget: layers, ids, edits and reconciliation, with every
outgoing message checked against the protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from exact_lab.widgets import protocol
from exact_lab.widgets.backend import MemoryBackend, ProjectBackend
from exact_lab.widgets.edits import apply_edits
from exact_lab.widgets.model import ViewerModel
from exact_lab.widgets.reconcile import on_committed, push_rows


class Sent(list):
    def __call__(self, content, buffers):
        self.append((content, buffers))

    def of(self, kind):
        return [(m, b) for m, b in self if m["type"] == kind]


def memory_model(small_svs, annotations=None):
    sent = Sent()
    model = ViewerModel(MemoryBackend(small_svs, annotations=annotations), sent)
    model.source = {"width": 2220, "height": 2967, "frames": 1}
    model.load()
    return model, sent


def test_the_model_sends_only_protocol_messages_and_a_layer_per_type(small_svs):
    df = pd.DataFrame({"type": ["box", "box", "point"],
                       "geometry": [shapely.box(0, 0, 10, 10), shapely.box(20, 20, 30, 30), shapely.Point(5, 5)]})
    model, sent = memory_model(small_svs, df)
    assert [m["name"] for m in model.types][:3] == ["box", "fixed_box", "point"]
    model.send_all()
    for content, _ in sent:
        assert content["type"] in protocol.TO_BROWSER
        protocol.message(content["type"], **{k: v for k, v in content.items() if k != "type"})  # no ProtocolError
    counts = {m["layer"]: m["count"] for m, _ in sent.of("chunk")}
    assert counts == {"t:1": 2, "t:3": 1}
    with pytest.raises(protocol.ProtocolError):
        model.send("chunk", gen=1)  # a malformed message fails in the kernel, not silently in the browser


def test_ids_resolve_to_uuids_both_ways(small_svs):
    df = pd.DataFrame({"type": ["box"] * 3, "geometry": [shapely.box(i * 50, 0, i * 50 + 10, 10) for i in range(3)],
                       "uuid": [f"00000000-0000-4000-8000-00000000000{i}" for i in range(3)]})
    model, _ = memory_model(small_svs, df)
    ids = model.layers.ids_of_many(list(df["uuid"]) + ["not-shown"])
    assert ids[-1] == -1 and len(set(ids[:3])) == 3
    assert [u for _, u in model.layers.resolve_many(ids[:3])] == list(df["uuid"])
    assert model.layers.resolve(int(ids[1])) == ("t:1", df["uuid"][1])


def test_edits_apply_to_memory_and_are_acked_with_refusals(small_svs):
    model, sent = memory_model(small_svs)
    new = 2**30 + 1
    ops = {"seq": 1, "ops": [
        {"op": "put", "id": new, "uuid": "7d0f5c1e-8a5b-4f1e-9a57-2c5e0d6a1b11", "layer": "t:1", "kind": "box", "n": 2},
        {"op": "put", "id": new + 1, "layer": "t:99", "kind": "point", "n": 1},
    ]}
    applied = apply_edits(model, ops, np.array([10, 20, 60, 70, 1, 1], np.float64), image="x", editable=True)
    assert [a["action"] for a in applied] == ["add"]
    ack = sent.of("ack")[-1][0]
    assert ack["seq"] == 1 and [e["id"] for e in ack["errors"]] == [new + 1] and "unknown layer" in ack["errors"][0]["error"]
    rows = model.annotations()
    assert list(rows["uuid"]) == ["7d0f5c1e-8a5b-4f1e-9a57-2c5e0d6a1b11"]
    assert rows["geometry"][0].bounds == (10, 20, 60, 70)
    refused = apply_edits(model, {"seq": 2, "ops": [{"op": "put", "id": new, "layer": "t:1", "kind": "box", "n": 2}]},
                          np.array([0, 0, 5, 5], np.float64), image="x", editable=False)
    assert refused == [] and "not editable" in sent.of("ack")[-1][0]["errors"][0]["error"]


def test_removing_a_user_layer_drops_it_in_the_browser(small_svs):
    model, sent = memory_model(small_svs)
    model.add_user_layer(pd.DataFrame({"xmin": [1.0], "ymin": [1.0], "xmax": [5.0], "ymax": [5.0]}), "cells", {}, False)
    assert "u:cells" in model.layers
    model.remove_layer("u:cells")
    assert "u:cells" not in model.layers and sent.of("drop")[-1][0]["layer"] == "u:cells"


def test_committed_rows_confirm_what_was_sent_and_correct_the_rest(project, small_svs):
    iid = int(project.add_images([small_svs])["image_id"][0])
    project.add_annotation_type("cell", "box")
    project.session.interval = 60
    sent = Sent()
    model = ViewerModel(ProjectBackend(project, iid), sent)
    model.source = {"width": 2220, "height": 2967, "frames": 1}
    model.load()
    layer = model.types[0]["layer"]
    uuid = "1c2d3e4f-0000-4000-8000-000000000001"
    apply_edits(model, {"seq": 1, "ops": [{"op": "put", "id": 2**30, "uuid": uuid, "layer": layer, "kind": "box", "n": 2}]},
                np.array([1, 2, 3, 4], np.float64), image=iid, editable=True)
    assert model.backend.is_pending(uuid)
    project.flush()
    rows = project.annotations(uuids=[uuid], include_deleted=True)
    sent.clear()
    on_committed(model, rows)  # what the store committed equals what was sent: nothing to correct
    assert not sent.of("upsert") and sent.of("saved")[-1][0]["pending"] == 0
    moved = rows.assign(geometry=[shapely.box(5, 5, 9, 9)])
    on_committed(model, moved)  # the store holds something else: the browser is told
    up, buffers = sent.of("upsert")[-1]
    assert up["shapes"][0]["uuid"] == uuid and np.frombuffer(bytes(buffers[0]), np.float64).tolist() == [5, 5, 9, 9]
    push_rows(model, moved.assign(deleted=True), reason="remote")
    assert sent.of("remove")

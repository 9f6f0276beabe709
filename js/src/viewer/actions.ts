// What each key action (keyboard.ts) and toolbar button does to a view's model and session.
import type { KeyAction } from "../keyboard";
import type { ViewerModel } from "./model";
import { retype } from "./retype";

/** A screening move keeps 15 % of the previous screen in view. */
const SCREEN_STEP = 0.85;

export function runAction(m: ViewerModel, a: KeyAction): void {
  const s = m.session;
  const it = m.interaction;
  switch (a.do) {
    case "cancel":
      if (!it.cancel()) m.select([], false);
      return;
    case "confirm":
      it.confirm();
      return;
    case "backspace":
      if (it.undoVertex()) return;
    // falls through: Backspace deletes like Del when nothing is being drawn
    case "delete":
      if (!it.deleteActiveVertex()) deleteSelection(m);
      return;
    case "undo": {
      it.cancel();
      if (s.history.undo() === "mask") {
        s.maskHistory(-1);
        s.message("undo mask edit");
        return;
      }
      const label = s.editor.undo();
      s.message(label ? `undo ${label}` : "nothing to undo");
      s.sendSelection();
      return;
    }
    case "redo": {
      if (s.history.redo() === "mask") {
        s.maskHistory(1);
        s.message("redo mask edit");
        return;
      }
      const label = s.editor.redo();
      s.message(label ? `redo ${label}` : "nothing to redo");
      s.sendSelection();
      return;
    }
    case "toggleDraw":
      m.toggleDraw();
      return;
    case "toggleAnnotations":
      m.widget.set("annotations_visible", !m.annotationsVisible);
      m.widget.save_changes();
      return;
    case "type":
      numberKey(m, a.key);
      return;
    case "image":
      m.widget.send({ type: "navigate", delta: a.delta });
      return;
    case "frame":
      m.widget.set("frame", Math.max(0, Math.min(m.frames - 1, m.frame + a.delta)));
      m.widget.save_changes();
      return;
    case "screen": {
      const c = m.camera;
      const grid = m.widget.get("_screening");
      if (grid && "tiles" in grid) {
        // a screening is attached: the kernel moves to the next tile, saves and shows it
        m.widget.send({ type: "screening", dx: a.dx, dy: a.dy, mark: a.mark, bounds: c.bounds() });
        return;
      }
      const [x0, y0, x1, y1] = c.bounds();
      c.cx += a.dx * (x1 - x0) * SCREEN_STEP;
      c.cy += a.dy * (y1 - y0) * SCREEN_STEP;
      m.cameraChanged();
      m.widget.send({ type: "screening", dx: a.dx, dy: a.dy, mark: a.mark, bounds: c.bounds() });
      return;
    }
    case "verify":
      s.outbox.flush(); // the kernel must know new shapes before it verifies them
      m.widget.send({ type: "verify" }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
    case "verdict":
      s.outbox.flush();
      m.widget.send({ type: "verdict", verified: a.verified }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
    case "copyToNextFrame":
      s.outbox.flush(); // a box just drawn must reach the kernel before it is copied
      m.widget.send({ type: "frame_copy" }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
    case "interpolate":
      s.outbox.flush();
      m.widget.send({ type: "frame_interpolate" }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
    case "review":
      m.widget.send({ type: "review_step", delta: a.delta });
      return;
    case "openSource": {
      // the patch under the pointer when nothing is selected (the view's centre before any move)
      const at = m.cursor ?? { x: m.camera.cx, y: m.camera.cy };
      m.widget.send({ type: "open_source", x: at.x, y: at.y }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
    }
    case "pan":
      m.camera.panBy(-a.dx * m.camera.width, -a.dy * m.camera.height);
      m.cameraChanged();
      return;
    case "zoom":
      m.camera.zoomAt(m.camera.width / 2, m.camera.height / 2, a.dz);
      m.cameraChanged();
      return;
    case "fit":
      m.fitImage();
      m.cameraChanged();
      return;
  }
}

function deleteSelection(m: ViewerModel): void {
  const s = m.session;
  const shapes = m.selectedShapes();
  const editable = shapes.filter((x) => m.editable(x));
  if (!editable.length) {
    if (shapes.length) s.message("these annotations are not editable", "warn");
    return;
  }
  s.editor.apply(editable.length > 1 ? `delete ${editable.length} shapes` : "delete", editable.map((x) => ({ id: x.id, before: x, after: null })));
  m.select([], false);
}

/** A number key: with a selection, change its type; without, draw that type from now on. */
function numberKey(m: ViewerModel, key: string): void {
  const type = m.types.find((t) => t.key === key);
  if (!type) return;
  const s = m.session;
  const sel = m.selectedShapes();
  if (!sel.length) {
    m.pickType(type.index);
    return;
  }
  const { changes, refused } = retype(sel, type, (k) => m.layerMeta(k));
  if (changes.length) s.editor.apply(`change type to ${type.name}`, changes);
  if (refused) s.message(`${refused} selected annotation(s) cannot become "${type.name}" (${type.vector_type})`, "warn");
  else s.message(`type → ${type.name}`);
}

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
      const label = s.editor.undo();
      s.message(label ? `undo ${label}` : "nothing to undo");
      s.sendSelection();
      return;
    }
    case "redo": {
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
      const [x0, y0, x1, y1] = c.bounds();
      c.cx += a.dx * (x1 - x0) * SCREEN_STEP;
      c.cy += a.dy * (y1 - y0) * SCREEN_STEP;
      m.cameraChanged();
      if (a.mark) m.widget.send({ type: "screening", dx: a.dx, dy: a.dy, bounds: c.bounds() });
      return;
    }
    case "verify":
      s.outbox.flush(); // the kernel must know new shapes before it verifies them
      m.widget.send({ type: "verify" }, undefined, [Float64Array.from(s.store.selection).buffer]);
      return;
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

// Mouse handling for every tool: pan, select (click, box, lasso, shift adds), drawing each shape
// type, and editing the selection (move, resize, vertex move / insert / delete).
import { cloneShape, normalizeBox, round2, simplify, thinPath } from "../geometry";
import type { Shape } from "../protocol";
import type { Draft, Pointer, ToolContext, ToolName } from "./context";
import { deleteVertex, dragHandle, Handle, handlesOf, insertVertex, translate } from "./handles";

const CLICK_PX = 4;
const HANDLE_PX = 8;

type Gesture =
  | { kind: "pan"; lastX: number; lastY: number }
  | { kind: "band"; start: Pointer; lasso: number[] | null; add: boolean; moved: boolean }
  | { kind: "press"; start: Pointer; hit: Shape | null } // select tool: decide click or move
  | { kind: "move"; start: Pointer; before: Shape[] }
  | { kind: "handle"; start: Pointer; handle: Handle; original: Shape; base: Shape; moved: boolean }
  | { kind: "draw"; start: Pointer; moved: boolean; freehand: number[] | null }
  | { kind: "panclick"; start: Pointer; lastX: number; lastY: number; moved: boolean };

export class Interaction {
  tool: ToolName = "pan";
  private gesture: Gesture | null = null;
  /** vertices clicked so far for polyline / polygon / two-click line */
  private clicks: number[] = [];
  private cursor: Pointer | null = null;
  /** vertex picked by a click on its handle: Delete removes it */
  activeVertex: { id: number; index: number } | null = null;
  spaceDown = false;

  constructor(private ctx: ToolContext) {}

  setTool(t: ToolName): void {
    this.cancel();
    this.tool = t;
  }

  get busy(): boolean {
    return this.gesture !== null || this.clicks.length > 0;
  }

  cancel(): boolean {
    const had = this.busy;
    if (this.gesture?.kind === "move") for (const s of this.gesture.before) this.ctx.editor.preview(s);
    if (this.gesture?.kind === "handle") this.ctx.editor.preview(this.gesture.original);
    this.gesture = null;
    this.clicks = [];
    this.ctx.render();
    return had;
  }

  /** The single selected, editable shape whose handles are shown. */
  editTarget(): Shape | null {
    const sel = this.ctx.store.selection;
    if (sel.size !== 1) return null;
    const s = this.ctx.store.get(sel.values().next().value as number);
    return s && this.ctx.editable(s) ? s : null;
  }

  handles(): Handle[] {
    const s = this.editTarget();
    return s ? handlesOf(s) : [];
  }

  private handleAt(p: Pointer): Handle | null {
    let best: Handle | null = null, bestD = HANDLE_PX;
    for (const h of this.handles()) {
      const [hx, hy] = this.ctx.camera.toScreen(h.x, h.y);
      // vertices win over midpoints at the same distance
      const d = Math.hypot(hx - p.sx, hy - p.sy) + (h.kind === "mid" || h.kind === "edge" ? 0.5 : 0);
      if (d < bestD) {
        bestD = d;
        best = h;
      }
    }
    return best;
  }

  private tolerance(): number {
    return 5 / this.ctx.camera.scale;
  }

  private hit(p: Pointer): Shape | null {
    return this.ctx.store.hit(p.x, p.y, this.tolerance(), this.ctx.visibleLayers())[0] ?? null;
  }

  cursorFor(p: Pointer | null): string {
    if (this.gesture?.kind === "pan" || this.gesture?.kind === "panclick") return "grabbing";
    if (p && this.handleAt(p)) return "pointer";
    if (this.tool === "pan") return "grab";
    if (this.tool === "select" || this.tool === "lasso") return "default";
    return "crosshair";
  }

  // -- pointer events ----------------------------------------------------------------------------
  down(p: Pointer, button: number): void {
    this.cursor = p;
    if (button === 1 || button === 2 || this.spaceDown) {
      this.gesture = { kind: "pan", lastX: p.sx, lastY: p.sy };
      return;
    }
    if (button !== 0) return;
    const handle = this.clicks.length ? null : this.handleAt(p);
    if (handle) {
      const target = this.editTarget()!;
      if (p.alt && handle.kind === "vertex") {
        const after = deleteVertex(target, handle.index);
        if (after) this.ctx.editor.apply("delete vertex", [{ id: target.id, before: target, after }]);
        else this.ctx.message("a shape needs at least " + (target.kind === "polygon" ? 3 : 2) + " vertices");
        this.ctx.render();
        return;
      }
      this.gesture = { kind: "handle", start: p, handle, original: cloneShape(target), base: cloneShape(target), moved: false };
      return;
    }
    switch (this.tool) {
      case "pan":
        this.gesture = { kind: "panclick", start: p, lastX: p.sx, lastY: p.sy, moved: false };
        return;
      case "select":
      case "lasso": {
        const hit = this.tool === "select" && !p.alt ? this.hit(p) : null;
        if (hit) {
          this.gesture = { kind: "press", start: p, hit };
          if (!this.ctx.store.selection.has(hit.id)) this.ctx.select([hit.id], p.shift);
          else if (p.shift) {
            this.gesture = null;
            const rest = [...this.ctx.store.selection].filter((id) => id !== hit.id);
            this.ctx.select(rest, false);
          }
          return;
        }
        const lasso = this.tool === "lasso" || p.alt ? [p.x, p.y] : null;
        this.gesture = { kind: "band", start: p, lasso, add: p.shift, moved: false };
        return;
      }
      default:
        this.gesture = { kind: "draw", start: p, moved: false, freehand: null };
    }
  }

  move(p: Pointer): void {
    this.cursor = p;
    const g = this.gesture;
    if (!g) {
      if (this.clicks.length) this.ctx.render();
      return;
    }
    const far = (a: Pointer) => Math.hypot(p.sx - a.sx, p.sy - a.sy) > CLICK_PX;
    switch (g.kind) {
      case "pan":
        this.ctx.camera.panBy(p.sx - g.lastX, p.sy - g.lastY);
        g.lastX = p.sx;
        g.lastY = p.sy;
        break;
      case "panclick":
        if (!g.moved && !far(g.start)) return;
        g.moved = true;
        this.ctx.camera.panBy(p.sx - g.lastX, p.sy - g.lastY);
        g.lastX = p.sx;
        g.lastY = p.sy;
        break;
      case "band":
        if (!g.moved && !far(g.start)) return;
        g.moved = true;
        if (g.lasso) g.lasso.push(p.x, p.y);
        break;
      case "press": {
        if (!far(g.start)) return;
        const before = [...this.ctx.store.selection].map((id) => this.ctx.store.get(id)).filter((s): s is Shape => !!s && this.ctx.editable(s));
        if (!before.length) {
          this.gesture = null;
          return;
        }
        this.gesture = { kind: "move", start: g.start, before: before.map(cloneShape) };
        this.move(p);
        return;
      }
      case "move": {
        const dx = p.x - g.start.x, dy = p.y - g.start.y;
        for (const s of g.before) this.ctx.editor.preview(translate(s, dx, dy));
        break;
      }
      case "handle": {
        if (!g.moved && !far(g.start)) return;
        if (!g.moved && g.handle.kind === "mid") {
          // dragging a midpoint inserts a vertex there; insert and move are one undo step
          const [shape, v] = insertVertex(g.base, g.handle.index, p.x, p.y);
          g.base = shape;
          g.handle = { kind: "vertex", index: v, x: p.x, y: p.y };
        }
        g.moved = true;
        this.ctx.editor.preview(dragHandle(g.base, g.handle, p.x, p.y));
        break;
      }
      case "draw":
        if (!g.moved && !far(g.start)) return;
        if (!g.moved && this.tool === "polygon" && this.clicks.length === 0) g.freehand = [g.start.x, g.start.y];
        if (!g.moved && this.tool === "polyline" && this.clicks.length === 0) g.freehand = [g.start.x, g.start.y];
        g.moved = true;
        if (g.freehand) g.freehand.push(p.x, p.y);
        break;
    }
    this.ctx.render();
  }

  up(p: Pointer): void {
    this.cursor = p;
    const g = this.gesture;
    this.gesture = null;
    if (!g) return;
    switch (g.kind) {
      case "panclick":
        if (!g.moved) {
          const hit = this.hit(p);
          this.ctx.select(hit ? [hit.id] : [], p.shift);
        }
        break;
      case "band":
        if (!g.moved) {
          if (!g.add) this.ctx.select([], false);
          break;
        }
        {
          const box = normalizeBox(g.start.x, g.start.y, p.x, p.y) as [number, number, number, number];
          let ids: number[];
          if (g.lasso) {
            const xs = g.lasso.filter((_, i) => i % 2 === 0), ys = g.lasso.filter((_, i) => i % 2 === 1);
            ids = this.ctx.store.within([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], this.ctx.visibleLayers(), g.lasso);
          } else ids = this.ctx.store.within(box, this.ctx.visibleLayers());
          this.ctx.select(ids, g.add);
        }
        break;
      case "press":
        // a plain click on an already selected shape narrows the selection to it
        if (g.hit && !p.shift) this.ctx.select([g.hit.id], false);
        break;
      case "move": {
        const dx = round2(p.x - g.start.x), dy = round2(p.y - g.start.y);
        const changes = g.before.map((s) => ({ id: s.id, before: s, after: roundShape(translate(s, dx, dy)) }));
        if (dx || dy) this.ctx.editor.apply(changes.length > 1 ? `move ${changes.length} shapes` : "move", changes);
        break;
      }
      case "handle": {
        if (!g.moved) {
          this.activeVertex = g.handle.kind === "vertex" ? { id: g.base.id, index: g.handle.index } : null;
          break;
        }
        let after = roundShape(dragHandle(g.base, g.handle, p.x, p.y));
        if (after.kind === "box") after = { ...after, coords: normalizeBox(after.coords[0], after.coords[1], after.coords[2], after.coords[3]) };
        const label = g.handle.kind === "vertex" ? "move vertex" : "resize";
        this.ctx.editor.apply(label, [{ id: after.id, before: g.original, after }]);
        this.activeVertex = g.handle.kind === "vertex" ? { id: after.id, index: g.handle.index } : null;
        break;
      }
      case "draw":
        this.finishDraw(g, p);
        break;
    }
    this.ctx.render();
  }

  dblclick(p: Pointer): void {
    if ((this.tool === "polyline" || this.tool === "polygon") && this.clicks.length) {
      // the two clicks of a double click added the same vertex twice
      const n = this.clicks.length;
      if (n >= 4 && Math.hypot(this.clicks[n - 2] - this.clicks[n - 4], this.clicks[n - 1] - this.clicks[n - 3]) * this.ctx.camera.scale < CLICK_PX)
        this.clicks.splice(n - 2, 2);
      this.finishClicks();
    }
  }

  /** Enter: finish the polyline / polygon being clicked. */
  confirm(): boolean {
    if (!this.clicks.length) return false;
    this.finishClicks();
    return true;
  }

  /** Backspace while clicking a shape: take back the last vertex. */
  undoVertex(): boolean {
    if (!this.clicks.length) return false;
    this.clicks.splice(this.clicks.length - 2, 2);
    this.ctx.render();
    return true;
  }

  // -- drawing ---------------------------------------------------------------------------------
  private finishDraw(g: Extract<Gesture, { kind: "draw" }>, p: Pointer): void {
    const t = this.tool;
    const s = g.start;
    switch (t) {
      case "box":
      case "ellipse":
        if (g.moved) {
          let [x1, y1] = [p.x, p.y];
          if (t === "ellipse" && p.shift) {
            const r = Math.max(Math.abs(x1 - s.x), Math.abs(y1 - s.y));
            x1 = s.x + Math.sign(x1 - s.x || 1) * r;
            y1 = s.y + Math.sign(y1 - s.y || 1) * r;
          }
          this.create(t, "box", normalizeBox(s.x, s.y, x1, y1));
        } else this.createDefaultBox(t, p);
        return;
      case "fixed_box":
        this.createDefaultBox(t, p);
        return;
      case "point":
        if (!g.moved) this.create(t, "point", [p.x, p.y]);
        return;
      case "line":
        if (g.moved) {
          this.create(t, "path", [s.x, s.y, p.x, p.y]);
          this.clicks = [];
        } else if (this.clicks.length) {
          this.create(t, "path", [this.clicks[0], this.clicks[1], p.x, p.y]);
          this.clicks = [];
        } else this.clicks = [p.x, p.y];
        return;
      case "polyline":
      case "polygon": {
        if (g.freehand) {
          const eps = 1.5 / this.ctx.camera.scale;
          const pts = simplify(thinPath(g.freehand, eps), eps * 0.75);
          const min = t === "polygon" ? 3 : 2;
          if (pts.length / 2 >= min) this.create(t, t === "polygon" ? "polygon" : "path", pts);
          return;
        }
        if (t === "polygon" && this.clicks.length >= 6) {
          const [fx, fy] = this.ctx.camera.toScreen(this.clicks[0], this.clicks[1]);
          if (Math.hypot(fx - p.sx, fy - p.sy) <= HANDLE_PX) {
            this.finishClicks();
            return;
          }
        }
        this.clicks.push(p.x, p.y);
        return;
      }
    }
  }

  private finishClicks(): void {
    const t = this.tool;
    const pts = this.clicks;
    this.clicks = [];
    if (t === "polygon" && pts.length >= 6) this.create(t, "polygon", pts);
    else if (t === "polyline" && pts.length >= 4) this.create(t, "path", pts);
    else if (t === "line" && pts.length >= 4) this.create(t, "path", pts.slice(0, 4));
    this.ctx.render();
  }

  private createDefaultBox(t: ToolName, p: Pointer): void {
    const type = this.ctx.typeFor(t);
    if (!type) return;
    const w = type.default_width, h = type.default_height;
    if (!w || !h) {
      if (t === "fixed_box") this.ctx.message(`type "${type.name}" has no default size`, "warn");
      return;
    }
    this.create(t, "box", [p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2]);
  }

  private create(t: ToolName, kind: Shape["kind"], coords: number[]): void {
    const type = this.ctx.typeFor(t);
    if (!type) return;
    const shape: Shape = { id: this.ctx.editor.mintId(), uuid: this.ctx.newUuid(), layer: type.layer, kind, coords: coords.map(round2) };
    this.ctx.editor.apply(`draw ${t}`, [{ id: shape.id, before: null, after: shape }]);
    this.ctx.select([shape.id], false);
  }

  /** The shape being drawn and the selection band, for rendering. */
  draft(): Draft | null {
    const g = this.gesture, p = this.cursor;
    if (g?.kind === "band" && g.moved && p) {
      if (g.lasso) return { kind: "lasso", coords: g.lasso };
      return { kind: "band", coords: normalizeBox(g.start.x, g.start.y, p.x, p.y) };
    }
    if (g?.kind === "draw" && g.moved && p) {
      if (g.freehand) return { kind: this.tool === "polygon" ? "polygon" : "path", coords: g.freehand, open: true };
      if (this.tool === "box" || this.tool === "ellipse") return { kind: this.tool, coords: normalizeBox(g.start.x, g.start.y, p.x, p.y) };
      if (this.tool === "line") return { kind: "path", coords: [g.start.x, g.start.y, p.x, p.y] };
    }
    if (this.clicks.length && p) {
      const coords = [...this.clicks, p.x, p.y];
      return { kind: this.tool === "polygon" ? "polygon" : "path", coords, open: true };
    }
    return null;
  }

  /** Delete the active vertex, if there is one. */
  deleteActiveVertex(): boolean {
    const v = this.activeVertex;
    if (!v) return false;
    const s = this.ctx.store.get(v.id);
    this.activeVertex = null;
    if (!s || !this.ctx.store.selection.has(v.id) || s.kind === "box" || s.kind === "point") return false;
    const after = deleteVertex(s, v.index);
    if (!after) {
      this.ctx.message("a shape needs at least " + (s.kind === "polygon" ? 3 : 2) + " vertices", "warn");
      return true;
    }
    this.ctx.editor.apply("delete vertex", [{ id: s.id, before: s, after }]);
    this.ctx.render();
    return true;
  }
}

function roundShape(s: Shape): Shape {
  return { ...s, coords: s.coords.map(round2) };
}

// Tool buttons, undo / redo / delete, fit, frame navigation and the panel toggle.
import type { ToolName } from "../tools/context";
import { icon } from "./icons";
import { h } from "./style";

const TOOL_BUTTONS: [ToolName, string][] = [
  ["pan", "pan / zoom (drag, wheel; right or middle drag and Space+drag pan in every tool)"],
  ["select", "select: click, drag a box, Alt+drag a lasso, Shift adds; drag a selected shape to move it"],
  ["lasso", "lasso select"],
  ["box", "box"],
  ["fixed_box", "fixed-size box (one click)"],
  ["point", "point"],
  ["ellipse", "ellipse (Shift: circle)"],
  ["line", "line"],
  ["polyline", "polyline: click vertices, double-click or Enter to finish"],
  ["polygon", "polygon: click vertices or drag freehand; Enter, double-click or the first vertex closes"],
  ["brush", "brush (mask types): drag paints the current class, right-drag erases; Shift+wheel or the slider sets the radius"],
  ["fill", "fill (mask types): drag an outline, every pixel inside gets the current class; right-drag erases"],
  ["superpixel", "superpixel fill (mask types): click or drag fills the superpixels under it, right click erases"],
];

export interface ToolbarActions {
  tool(t: ToolName): void;
  undo(): void;
  redo(): void;
  remove(): void;
  fit(): void;
  frame(delta: number): void;
  panel(): void;
}

export class Toolbar {
  el = h("div", { class: "xl-toolbar" });
  private tools = new Map<ToolName, HTMLButtonElement>();
  private undoBtn: HTMLButtonElement;
  private redoBtn: HTMLButtonElement;
  private frameLabel = h("span", { class: "xl-frame" });
  private frameBox = h("span", { style: "display:none" });

  constructor(a: ToolbarActions) {
    for (const [name, title] of TOOL_BUTTONS) {
      const b = h("button", { title, "data-tool": name, onclick: () => a.tool(name) }, icon(name));
      this.tools.set(name, b);
      this.el.append(b);
    }
    this.el.append(h("span", { class: "xl-sep" }));
    this.undoBtn = h("button", { title: "undo (Ctrl+Z)", "data-action": "undo", onclick: a.undo }, icon("undo"));
    this.redoBtn = h("button", { title: "redo (Ctrl+Shift+Z)", "data-action": "redo", onclick: a.redo }, icon("redo"));
    this.el.append(this.undoBtn, this.redoBtn, h("button", { title: "delete selection (Del, x)", "data-action": "delete", onclick: a.remove }, icon("delete")));
    this.el.append(h("span", { class: "xl-sep" }), h("button", { title: "fit the slide (Home)", "data-action": "fit", onclick: a.fit }, icon("fit")));
    this.frameBox.append(
      h("button", { title: "previous frame (Shift+Q)", "data-action": "prev-frame", onclick: () => a.frame(-1) }, icon("prev")),
      this.frameLabel,
      h("button", { title: "next frame (Shift+E)", "data-action": "next-frame", onclick: () => a.frame(1) }, icon("next")),
    );
    this.el.append(this.frameBox, h("button", { title: "layers, types and image adjustments", "data-action": "panel", onclick: a.panel }, icon("panel")));
    // clicks on the toolbar must not reach the canvas underneath
    this.el.addEventListener("pointerdown", (e) => e.stopPropagation());
  }

  update(tool: ToolName, canUndo: boolean, canRedo: boolean, frame: number, frames: number): void {
    for (const [name, b] of this.tools) b.classList.toggle("xl-on", name === tool);
    this.undoBtn.disabled = !canUndo;
    this.redoBtn.disabled = !canRedo;
    this.frameBox.style.display = frames > 1 ? "contents" : "none";
    this.frameLabel.textContent = `${frame + 1}/${frames}`;
  }
}

// The keyboard of a focused viewer, given to the viewer model as actions (keyboard.ts maps keys).
// JupyterLab never sees a key meant for the viewer.
import { keyAction } from "../keyboard";
import type { ViewerModel } from "./model";

export function bindKeys(root: HTMLElement, model: ViewerModel): void {
  root.addEventListener("keydown", (e) => {
    if (e.key === "Tab") return; // let people leave the viewer
    const target = e.target as HTMLElement;
    if (target !== root && (target.tagName === "INPUT" || target.tagName === "BUTTON")) {
      e.stopPropagation();
      return;
    }
    e.stopPropagation();
    if (e.key === " ") {
      model.setSpace(true);
      e.preventDefault();
      return;
    }
    const a = keyAction(e);
    if (!a) return;
    e.preventDefault();
    model.act(a);
  });
  root.addEventListener("keyup", (e) => {
    e.stopPropagation();
    if (e.key === " ") model.setSpace(false);
  });
  root.addEventListener("keypress", (e) => e.stopPropagation());
}

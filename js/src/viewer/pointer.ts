// The canvas's mouse and wheel events, given to the viewer model as screen positions. The
// notebook sees none of them (it would take focus or select the cell).
import type { ScreenPointer, ViewerModel } from "./model";

/** Wheel zoom in log2 units for one wheel event: a pixel, line or page of scrolling. */
export function wheelZoom(deltaY: number, deltaMode: number): number {
  const unit = deltaMode === 1 ? 33 : deltaMode === 2 ? 400 : 1;
  return Math.max(-1, Math.min(1, (-deltaY * unit) / 400));
}

export function bindPointer(root: HTMLElement, canvas: HTMLElement, model: ViewerModel): void {
  const at = (e: MouseEvent): ScreenPointer => {
    const r = canvas.getBoundingClientRect();
    return { sx: e.clientX - r.left, sy: e.clientY - r.top, shift: e.shiftKey, alt: e.altKey, ctrl: e.ctrlKey || e.metaKey };
  };
  const stop = (e: Event) => e.stopPropagation();
  for (const t of ["mousedown", "mouseup", "click", "contextmenu"]) root.addEventListener(t, stop);
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("pointerdown", (e) => {
    root.focus({ preventScroll: true });
    canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
    model.pointerDown(at(e), e.button);
  });
  canvas.addEventListener("pointermove", (e) => model.pointerMove(at(e)));
  canvas.addEventListener("pointerup", (e) => model.pointerUp(at(e)));
  canvas.addEventListener("pointercancel", () => model.pointerCancel());
  canvas.addEventListener("dblclick", (e) => {
    e.stopPropagation();
    model.doubleClick(at(e));
  });
  canvas.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      e.stopPropagation();
      model.wheel(at(e), wheelZoom(e.deltaY, e.deltaMode));
    },
    { passive: false },
  );
}

// Scale bar in microns (or pixels when the slide has no resolution), 60-150 screen pixels long.
import { h } from "./style";

export class ScaleBar {
  el = h("div", { class: "xl-scalebar" });
  private bar = h("div");
  private label = h("span");

  constructor() {
    this.el.append(this.label, this.bar);
  }

  update(scale: number, mpp: number | null): void {
    const unitPerPx = mpp ? mpp / scale : 1 / scale; // microns (or image pixels) per screen pixel
    const target = 100 * unitPerPx;
    const pow = 10 ** Math.floor(Math.log10(target));
    const nice = [1, 2, 5, 10].map((m) => m * pow).reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
    this.bar.style.width = `${nice / unitPerPx}px`;
    let text: string;
    if (!mpp) text = `${fmt(nice)} px`;
    else if (nice >= 1000) text = `${fmt(nice / 1000)} mm`;
    else text = `${fmt(nice)} µm`;
    this.label.textContent = text;
  }
}

function fmt(v: number): string {
  return v >= 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(2);
}

// The panel of `viewer.on_view` results (the `_panel` trait): HTML the kernel renders from the
// user's callbacks (text, tables, figures as PNG), shown at the left under the toolbar; empty
// hides it. The kernel writes it only after the view rests, so panning never waits for it.
import { h } from "./style";

export class ViewPanel {
  readonly el: HTMLDivElement;

  constructor() {
    this.el = h("div", { class: "xl-viewpanel xl-hidden" });
    // the panel scrolls and selects text on its own: the canvas must not see these as pans
    for (const type of ["pointerdown", "wheel"]) this.el.addEventListener(type, (e) => e.stopPropagation());
  }

  show(html: string): void {
    this.el.innerHTML = html;
    this.el.classList.toggle("xl-hidden", !html);
  }
}

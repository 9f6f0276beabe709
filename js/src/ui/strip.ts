// The image strip: the images of the viewer's image set (pseudonyms where the set is
// pseudonymised) with this user's screening progress; a click moves there (as q / e do).
import type { StripEntry } from "../widget-model";
import { h } from "./style";

export class ImageStrip {
  el: HTMLDivElement;
  private key = "";

  constructor(private onPick: (delta: number) => void) {
    this.el = h("div", { class: "xl-strip xl-hidden" });
  }

  update(entries: StripEntry[]): void {
    const key = JSON.stringify(entries);
    if (key === this.key) return;
    this.key = key;
    this.el.replaceChildren();
    this.el.classList.toggle("xl-hidden", entries.length < 2);
    const here = entries.findIndex((e) => e.current);
    entries.forEach((e, i) => {
      const item = h("button", { class: e.current ? "xl-strip-item xl-current" : "xl-strip-item", title: e.name });
      item.textContent = e.progress === null ? e.name : `${e.name} · ${Math.round(e.progress * 100)}%`;
      item.dataset.imageId = String(e.image_id);
      item.addEventListener("click", (ev) => {
        ev.stopPropagation();
        if (here >= 0 && i !== here) this.onPick(i - here);
      });
      this.el.append(item);
    });
  }
}

// The HPF frame's readout (the `_hpf` trait, widgets/hpfframe.py): the count inside the frame,
// live while it is dragged. The frame is a box of a user layer, moved by the select tool like any
// shape; during the drag its preview is in the store, so the count comes from the centres the
// browser holds (the kernel's rule: left / top edge inside, right / bottom outside). Once the
// move reaches the kernel, the store's count for the new bounds replaces it.
import type { AnnotationStore } from "../data/store";
import { h } from "../ui/style";
import type { HpfFrameState, ViewerWidgetModel } from "../widget-model";

/** Level-0 corner of the frame's box as the store holds it now (its centre less half the side). */
export function frameCorner(store: AnnotationStore, layer: string, side: number): [number, number] | null {
  let corner: [number, number] | null = null;
  store.forEachCenter(layer, (x, y) => (corner = [x - side / 2, y - side / 2]));
  return corner;
}

/** Annotations of the layers `keys` whose centre lies in the square at (x0, y0). */
export function countInFrame(store: AnnotationStore, keys: string[], x0: number, y0: number, side: number): number {
  let n = 0;
  const x1 = x0 + side, y1 = y0 + side;
  for (const key of keys) store.forEachCenter(key, (x, y) => { if (x >= x0 && x < x1 && y >= y0 && y < y1) n++; });
  return n;
}

/** Chunk bounds are float32: a corner within this many pixels of the kernel's is the same place. */
const SAME_PLACE_PX = 0.01;

export class HpfReadout {
  readonly el: HTMLDivElement;
  private queued = false;
  private offs: (() => void)[] = [];

  constructor(private store: AnnotationStore, private traits: ViewerWidgetModel) {
    this.el = h("div", { class: "xl-hpf xl-hidden" });
    const update = () => this.schedule();
    traits.on("change:_hpf", update);
    this.offs.push(() => traits.off("change:_hpf", update));
    this.offs.push(store.on(update));
    this.update();
  }

  destroy(): void {
    for (const off of this.offs) off();
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.update();
    });
  }

  update(): void {
    const st = this.traits.get("_hpf") as HpfFrameState | Record<string, never>;
    if (!st || !("layer" in st)) {
      this.el.classList.add("xl-hidden");
      return;
    }
    const corner = frameCorner(this.store, st.layer, st.side) ?? [st.bounds[0], st.bounds[1]];
    const atKernel = Math.abs(corner[0] - st.bounds[0]) < SAME_PLACE_PX && Math.abs(corner[1] - st.bounds[1]) < SAME_PLACE_PX;
    const count = atKernel ? st.count : countInFrame(this.store, st.types, corner[0], corner[1], st.side);
    this.el.textContent = `${st.name}: ${count} in ${st.area_mm2} mm²`;
    this.el.dataset.count = String(count);
    this.el.dataset.source = atKernel ? "store" : "view";
    this.el.dataset.x0 = String(corner[0]);
    this.el.dataset.y0 = String(corner[1]);
    this.el.classList.remove("xl-hidden");
  }
}

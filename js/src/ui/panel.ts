// Side panel: annotation types (with their number keys), layers (visibility, colour, opacity,
// count) and image adjustments.
import type { LayerMeta, TypeMeta } from "../protocol";
import type { Adjustments } from "../render/adjust";
import { h } from "./style";

export interface PanelActions {
  pickType(index: number): void;
  styleLayer(key: string, change: Partial<LayerMeta>): void;
  adjust(change: Partial<Adjustments>): void;
}

export class Panel {
  el = h("div", { class: "xl-panel xl-hidden" });
  private typesBox = h("div");
  private layersBox = h("div");
  private adjustBox = h("div", { class: "xl-adjust" });
  private counts = new Map<string, HTMLElement>();
  private inputs = new Map<string, { visible: HTMLInputElement; color: HTMLInputElement; opacity: HTMLInputElement }>();
  private adjustInputs = new Map<string, HTMLInputElement>();
  private lastKey = "";

  constructor(private a: PanelActions) {
    this.el.append(h("h4", {}, "Types"), this.typesBox, h("h4", {}, "Layers"), this.layersBox, h("h4", {}, "Image"), this.adjustBox);
    this.el.addEventListener("pointerdown", (e) => e.stopPropagation());
    this.el.addEventListener("wheel", (e) => e.stopPropagation());
  }

  toggle(): void {
    this.el.classList.toggle("xl-hidden");
  }

  update(types: TypeMeta[], layers: LayerMeta[], current: number | null, count: (key: string) => number, adj: Adjustments): void {
    // rebuild only when the structure changes: a slider being dragged must survive updates
    const key = JSON.stringify([types, layers.map((l) => [l.key, l.name]), current]);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.rebuild(types, layers, current, adj);
    }
    if (!this.adjustInputs.size) this.buildAdjust(adj);
    const active = document.activeElement;
    for (const l of layers) {
      const el = this.counts.get(l.key);
      if (el) el.textContent = count(l.key).toLocaleString();
      const i = this.inputs.get(l.key);
      if (!i) continue;
      i.visible.checked = l.visible;
      if (i.color !== active) i.color.value = l.color;
      if (i.opacity !== active) i.opacity.value = String(l.opacity);
    }
    for (const [name, input] of this.adjustInputs) {
      if (input === active) continue;
      if (name.startsWith("ch")) input.checked = adj.channels[+name.slice(2)];
      else input.value = String((adj as any)[name]);
    }
  }

  private rebuild(types: TypeMeta[], layers: LayerMeta[], current: number | null, adj: Adjustments): void {
    this.typesBox.replaceChildren(
      ...types.map((t) =>
        h("div", { class: "xl-row" + (t.index === current ? " xl-current" : ""), "data-type": t.name },
          h("span", { class: "xl-key" }, t.key ?? ""),
          h("span", { class: "xl-swatch", style: `background:${t.color}` }),
          h("span", { class: "xl-name", title: `${t.name} (${t.vector_type})`, onclick: () => this.a.pickType(t.index) }, `${t.name}`),
          h("span", { class: "xl-count" }, t.vector_type)),
      ),
    );
    if (!types.length) this.typesBox.replaceChildren(h("div", { class: "xl-count" }, "no annotation types"));
    this.counts.clear();
    this.layersBox.replaceChildren(
      ...layers.map((l) => {
        const count = h("span", { class: "xl-count" });
        this.counts.set(l.key, count);
        const visible = h("input", { type: "checkbox", checked: l.visible, title: "visible", onchange: (e: Event) => this.a.styleLayer(l.key, { visible: (e.target as HTMLInputElement).checked }) });
        const color = h("input", { type: "color", value: l.color, title: "colour", oninput: (e: Event) => this.a.styleLayer(l.key, { color: (e.target as HTMLInputElement).value }) });
        const opacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: l.opacity, title: "opacity", oninput: (e: Event) => this.a.styleLayer(l.key, { opacity: +(e.target as HTMLInputElement).value }) });
        this.inputs.set(l.key, { visible, color, opacity });
        return h("div", { class: "xl-row", "data-layer": l.name }, visible, color, h("span", { class: "xl-name", title: l.name }, l.name), count, opacity);
      }),
    );
  }

  private buildAdjust(adj: Adjustments): void {
    const slider = (label: string, name: "brightness" | "contrast" | "gamma", min: number, max: number) => {
      const input = h("input", { type: "range", min, max, step: 0.01, value: adj[name], "data-adjust": name, oninput: (e: Event) => this.a.adjust({ [name]: +(e.target as HTMLInputElement).value }) });
      this.adjustInputs.set(name, input);
      return h("label", {}, label, input);
    };
    const channel = (i: number, label: string) => {
      const input = h("input", { type: "checkbox", checked: adj.channels[i], onchange: () => {
        const ch = [0, 1, 2].map((k) => this.adjustInputs.get("ch" + k)!.checked) as [boolean, boolean, boolean];
        this.a.adjust({ channels: ch });
      } });
      this.adjustInputs.set("ch" + i, input);
      return h("label", { style: "display:inline-flex" }, input, label);
    };
    this.adjustBox.replaceChildren(
      slider("brightness", "brightness", -1, 1),
      slider("contrast", "contrast", 0, 4),
      slider("gamma", "gamma", 0.2, 4),
      h("div", {}, channel(0, "R"), channel(1, "G"), channel(2, "B"),
        h("button", { style: "margin-left:8px", onclick: () => this.a.adjust({ brightness: 0, contrast: 1, gamma: 1, channels: [true, true, true] }) }, "reset")),
    );
  }
}

// The pixel-labelling controls beside the tools, shown when the project has mask types: the
// brush radius slider, superpixels of the view (a method and its parameters), clear (asks first)
// and "finish image".
import type { TypeMeta } from "../protocol";
import { maskTypes } from "../masks/colors";
import { h } from "./style";

/** superpixel method -> its parameters' defaults (the kernel's `_superpixel_methods`) */
export type SuperpixelMethods = Record<string, Record<string, number>>;

export interface MaskBarActions {
  radius(r: number): void;
  superpixels(method: string, params: Record<string, number>): void;
  clear(): void;
  finish(): void;
}

export class MaskBar {
  el = h("span", { class: "xl-maskbar", style: "display:none" });
  private slider: HTMLInputElement;
  private label = h("span", { class: "xl-brush-size" });
  private method = h("select", { title: "superpixel method", "data-action": "superpixel-method" }) as HTMLSelectElement;
  private params = h("span", { class: "xl-sp-params" });
  private methods: SuperpixelMethods = {};
  private methodsKey = "";

  constructor(a: MaskBarActions) {
    // a log scale: 1 to 1,000 px with the same precision at both ends
    this.slider = h("input", { type: "range", min: "0", max: "3", step: "0.01", title: "brush radius (Shift+wheel)", "data-action": "brush-radius" }) as HTMLInputElement;
    this.slider.addEventListener("input", () => a.radius(10 ** Number(this.slider.value)));
    this.slider.style.width = "80px";
    this.method.addEventListener("change", () => this.showParams());
    this.el.append(
      // a row of its own under the tools: the image strip sits beside the first row
      h("span", { class: "xl-break" }),
      this.slider,
      this.label,
      this.method,
      this.params,
      h("button", { title: "superpixels of the view with the chosen method", "data-action": "superpixels", onclick: () => a.superpixels(this.method.value, this.paramValues()) }, "superpixels"),
      h("button", { title: "clear every label of this image (asks first)", "data-action": "mask-clear", onclick: a.clear }, "clear"),
      h("button", { title: "save and next: mark this image done, open the next undone one", "data-action": "finish-image", onclick: a.finish }, "finish"),
    );
    // typing a parameter must not reach the viewer's key map
    this.el.addEventListener("keydown", (e) => e.stopPropagation());
  }

  update(types: TypeMeta[], radius: number, units: string, methods: SuperpixelMethods): void {
    this.el.style.display = maskTypes(types).length ? "contents" : "none";
    if (document.activeElement !== this.slider) this.slider.value = String(Math.log10(Math.max(1, radius)));
    this.label.textContent = `${Math.round(radius)} ${units === "screen" ? "screen px" : "px"}`;
    const key = JSON.stringify(methods ?? {});
    if (key !== this.methodsKey) {
      this.methodsKey = key;
      this.methods = methods ?? {};
      this.method.replaceChildren(...Object.keys(this.methods).map((m) => h("option", { value: m }, m)));
      this.showParams();
    }
  }

  /** The chosen method's parameters as typed (an empty or unreadable box keeps the default). */
  paramValues(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const input of Array.from(this.params.querySelectorAll("input"))) {
      const v = Number(input.value);
      out[input.dataset.param!] = input.value !== "" && Number.isFinite(v) ? v : Number(input.placeholder);
    }
    return out;
  }

  private showParams(): void {
    const defaults = this.methods[this.method.value] ?? {};
    this.params.replaceChildren(
      ...Object.entries(defaults).map(([name, value]) =>
        h("label", { title: name }, `${name} `, h("input", { type: "number", step: "any", value: String(value), placeholder: String(value), "data-param": name })),
      ),
    );
  }
}

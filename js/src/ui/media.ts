// The media panel: the audio, video or image attached to the selected annotation, played here.
import type { MediaFile } from "../session/session";
import { h } from "./style";

export class MediaPanel {
  el: HTMLDivElement;
  private shown: string | null = null;

  constructor() {
    this.el = h("div", { class: "xl-media xl-hidden" });
  }

  update(media: MediaFile | null): void {
    const key = media ? media.url : null;
    if (key === this.shown) return;
    this.shown = key;
    this.el.replaceChildren();
    this.el.classList.toggle("xl-hidden", !media);
    if (!media) return;
    const label = h("div", { class: "xl-media-name" });
    label.textContent = media.name;
    let player: HTMLElement;
    if (media.kind === "audio" || media.kind === "video") {
      const el = document.createElement(media.kind);
      el.controls = true;
      el.preload = "metadata";
      el.src = media.url;
      player = el;
    } else {
      const img = document.createElement("img");
      img.src = media.url;
      img.alt = media.name;
      player = img;
    }
    player.dataset.uuid = media.uuid;
    this.el.append(label, player);
  }
}

// Messages from the kernel, applied to one widget's session: a case for each message of
// `ToBrowser`, and the compiler fails when one is missing (the `never` in `default`).
import { idList, typedArray } from "../data/buffers";
import { superpixelOverlay } from "../masks/superpixels";
import type { Shape, ToBrowser, UpsertMsg } from "../protocol";
import type { Session } from "./session";

export function receive(s: Session, msg: ToBrowser, buffers: DataView[]): void {
  const store = s.store;
  switch (msg.type) {
    case "reset":
      store.reset(msg.gen);
      return;
    case "chunk":
      s.timing.chunk(msg.batch, buffers.reduce((n, b) => n + b.byteLength, 0));
      store.addChunk(msg, buffers);
      return;
    case "done":
      if (msg.gen !== store.gen) return;
      store.complete = true;
      s.timing.complete(msg.batch);
      store.emit("done");
      return;
    case "upsert":
      if (msg.gen === store.gen) upsert(s, msg, buffers[0]);
      return;
    case "remove":
      if (msg.gen !== store.gen) return;
      // a shape with an edit still on its way to the kernel keeps the local state
      for (const id of idList(buffers[0])) if (!s.outbox.isPending(id)) store.remove(id);
      store.emit("remove");
      return;
    case "select":
      if (msg.gen === store.gen) store.setSelection(idList(buffers[0]));
      return;
    case "drop":
      if (msg.gen !== store.gen) return;
      s.editor.forgetLayer(msg.layer);
      if (store.dropLayer(msg.layer)) s.sendSelection();
      return;
    case "ack":
      s.outbox.ack(msg.seq);
      if (msg.errors.length) s.message(msg.errors[0].error, "error");
      return;
    case "saved":
      s.saved = !msg.pending;
      s.emit("saved");
      return;
    case "tile":
      s.tileChooser.receive(msg, buffers);
      return;
    case "notice":
      s.message(msg.text, msg.level || "info");
      return;
    case "mask_changed":
      s.masks.invalidate(msg.frame, msg.bbox);
      return;
    case "mask_tile":
      s.masks.receive(msg, buffers);
      return;
    case "superpixels":
      s.superpixels = superpixelOverlay(msg, buffers[0]);
      s.message(`${msg.count} superpixels (${msg.method}): click or drag with the superpixel tool to fill them`);
      s.emit("masks");
      return;
    case "media": {
      if (s.media) URL.revokeObjectURL(s.media.url);
      const b = buffers[0];
      s.media = msg.kind === "none" || !b ? null
        : { uuid: msg.uuid, kind: msg.kind, name: msg.filename, url: URL.createObjectURL(new Blob([new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice()], { type: msg.mime })) };
      s.emit("media");
      return;
    }
    default: {
      const unknown: never = msg;
      // only a bundle older than its kernel gets here (a browser cache): say so
      s.message(`the kernel sent a message this viewer does not know: ${JSON.stringify(unknown)}`, "warn");
    }
  }
}

function upsert(s: Session, msg: UpsertMsg, buffer: DataView | undefined): void {
  const coords = buffer ? typedArray(Float64Array, buffer) : new Float64Array(0);
  let at = 0;
  for (const h of msg.shapes) {
    const n = h.n * 2;
    const shape: Shape = { id: h.id, layer: h.layer, kind: h.kind, coords: Array.from(coords.subarray(at, at + n)), rings: h.rings, uuid: h.uuid };
    at += n;
    // a shape with an edit still on its way to the kernel keeps the local state
    if (!s.outbox.isPending(h.id)) s.store.put(shape);
  }
  s.store.emit("upsert");
}

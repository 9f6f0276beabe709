// Binary buffers of custom messages, read as typed arrays.
import type { WireBuffer } from "../widget-model";

/** Every buffer as a DataView (JupyterLab hands DataViews; other front ends may not). */
export function asDataViews(buffers: WireBuffer[] | undefined): DataView[] {
  return (buffers ?? []).map((b) =>
    b instanceof DataView ? b : ArrayBuffer.isView(b) ? new DataView(b.buffer, b.byteOffset, b.byteLength) : new DataView(b),
  );
}

type TypedArrayOf<T> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** The buffer's bytes as a typed array: a view over them when they are aligned, else a copy. */
export function typedArray<T>(ctor: TypedArrayOf<T>, view: DataView): T {
  const n = Math.floor(view.byteLength / ctor.BYTES_PER_ELEMENT);
  if (view.byteOffset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(view.buffer as ArrayBuffer, view.byteOffset, n);
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return new ctor(copy.buffer, 0, n);
}

/** A buffer of float64 ids (selection, removals), or none. */
export function idList(view: DataView | undefined): number[] {
  return view ? Array.from(typedArray(Float64Array, view)) : [];
}

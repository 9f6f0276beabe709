// Which history Ctrl+Z reaches: the last edit was either a vector edit (the browser's editor) or a
// mask edit (the kernel's mask history, `mask_history`). One stack of kinds, newest last.
export type EditKind = "vector" | "mask";

export class EditHistory {
  private done: EditKind[] = [];
  private undone: EditKind[] = [];

  /** A new edit: what was undone cannot be redone any more. */
  record(kind: EditKind): void {
    this.done.push(kind);
    if (this.done.length > 500) this.done.shift();
    this.undone = [];
  }

  /** The kind the next undo goes to (vector when nothing is recorded: the editor says "nothing"). */
  undo(): EditKind {
    const k = this.done.pop() ?? "vector";
    this.undone.push(k);
    return k;
  }

  redo(): EditKind {
    const k = this.undone.pop() ?? "vector";
    this.done.push(k);
    return k;
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  clearMasks(): void {
    this.done = this.done.filter((k) => k !== "mask");
    this.undone = this.undone.filter((k) => k !== "mask");
  }
}

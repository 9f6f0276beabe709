// The keyboard of DESIGN §7, as actions. Keys are read only while the viewer has focus.
export type KeyAction =
  | { do: "cancel" } | { do: "confirm" } | { do: "delete" } | { do: "backspace" }
  | { do: "undo" } | { do: "redo" } | { do: "toggleDraw" } | { do: "toggleAnnotations" }
  | { do: "type"; key: string } | { do: "image"; delta: number } | { do: "frame"; delta: number }
  | { do: "screen"; dx: number; dy: number; mark: boolean } | { do: "verify" } | { do: "openSource" }
  | { do: "verdict"; verified: boolean } | { do: "review"; delta: number }
  | { do: "copyToNextFrame" } | { do: "interpolate" }
  | { do: "pan"; dx: number; dy: number } | { do: "zoom"; dz: number } | { do: "fit" };

/** The parts of a key event that choose an action. */
export type KeyChord = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">;

export function keyAction(e: KeyChord): KeyAction | null {
  const k = e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl) {
    if (k === "z" || k === "Z") return e.shiftKey ? { do: "redo" } : { do: "undo" };
    if (k === "y") return { do: "redo" };
    return null;
  }
  if (e.altKey) return null;
  switch (k) {
    case "Escape": return { do: "cancel" };
    case "Enter": return { do: "confirm" };
    case "Delete": case "x": return { do: "delete" };
    case "Backspace": return { do: "backspace" };
    case "c": return { do: "toggleDraw" };
    case "y": return { do: "toggleAnnotations" };
    case "q": return { do: "image", delta: -1 };
    case "e": return { do: "image", delta: 1 };
    case "Q": return { do: "frame", delta: -1 };
    case "E": return { do: "frame", delta: 1 };
    case "w": return { do: "screen", dx: 0, dy: -1, mark: true };
    case "s": return { do: "screen", dx: 0, dy: 1, mark: true };
    case "a": return { do: "screen", dx: -1, dy: 0, mark: true };
    case "d": return { do: "screen", dx: 1, dy: 0, mark: true };
    case "i": return { do: "screen", dx: 0, dy: -1, mark: false };
    case "k": return { do: "screen", dx: 0, dy: 1, mark: false };
    case "j": return { do: "screen", dx: -1, dy: 0, mark: false };
    case "l": return { do: "screen", dx: 1, dy: 0, mark: false };
    case "f": return { do: "verify" };
    case "v": return { do: "verdict", verified: true };
    case "r": return { do: "verdict", verified: false };
    case "n": return { do: "review", delta: 1 };
    case "p": return { do: "review", delta: -1 };
    case "o": return { do: "openSource" };
    case "t": return { do: "copyToNextFrame" };
    case "T": return { do: "interpolate" };
    case "ArrowLeft": return { do: "pan", dx: -0.1, dy: 0 };
    case "ArrowRight": return { do: "pan", dx: 0.1, dy: 0 };
    case "ArrowUp": return { do: "pan", dx: 0, dy: -0.1 };
    case "ArrowDown": return { do: "pan", dx: 0, dy: 0.1 };
    case "+": case "=": return { do: "zoom", dz: 0.5 };
    case "-": case "_": return { do: "zoom", dz: -0.5 };
    case "Home": return { do: "fit" };
  }
  if (/^[0-9]$/.test(k)) return { do: "type", key: k };
  return null;
}

// Styles of the widget, injected once per page; every class is prefixed with "xl-".
const CSS = `
.xl-root { position: relative; width: 100%; overflow: hidden; background: #1d1f21; color: #eee;
  font: 12px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; outline: none; user-select: none; border-radius: 4px; }
.xl-root:focus { box-shadow: inset 0 0 0 2px #4f8ff7; }
.xl-canvas { position: absolute; inset: 0 0 22px 0; }
.xl-canvas canvas { touch-action: none; }
.xl-toolbar { position: absolute; top: 6px; left: 6px; display: flex; flex-wrap: wrap; gap: 2px; max-width: calc(100% - 230px);
  background: rgba(25,27,30,.85); padding: 3px; border-radius: 4px; z-index: 3; }
.xl-toolbar button { min-width: 26px; height: 26px; padding: 0 5px; border: 1px solid transparent; border-radius: 3px;
  background: transparent; color: #ddd; cursor: pointer; font-size: 14px; line-height: 1; }
.xl-toolbar button:hover { background: #3a3d42; }
.xl-toolbar button.xl-on { background: #4f8ff7; color: #fff; }
.xl-toolbar button:disabled { opacity: .35; cursor: default; }
.xl-toolbar .xl-break { flex-basis: 100%; height: 0; }
.xl-toolbar input[type=range] { align-self: center; }
.xl-toolbar .xl-sep { width: 1px; background: #555; margin: 3px 3px; }
.xl-toolbar .xl-frame, .xl-toolbar .xl-brush-size { padding: 0 4px; align-self: center; color: #ccc; }
.xl-toolbar select { align-self: center; height: 22px; font-size: 12px; background: #2a2d31; color: #ddd; border: 1px solid #555; }
.xl-toolbar .xl-sp-params { display: inline-flex; gap: 3px; align-self: center; }
.xl-toolbar .xl-sp-params label { color: #aaa; font-size: 11px; }
.xl-toolbar .xl-sp-params input { width: 44px; height: 18px; font-size: 11px; background: #2a2d31; color: #ddd; border: 1px solid #555; }
.xl-panel { position: absolute; top: 6px; right: 6px; width: 210px; max-height: calc(100% - 200px); overflow: auto;
  background: rgba(25,27,30,.9); border-radius: 4px; padding: 6px; z-index: 3; }
.xl-panel.xl-hidden { display: none; }
.xl-viewpanel { position: absolute; top: 44px; left: 6px; max-width: 340px; max-height: calc(100% - 110px); overflow: auto;
  background: rgba(25,27,30,.9); border-radius: 4px; padding: 6px; z-index: 3; user-select: text; }
.xl-viewpanel.xl-hidden { display: none; }
.xl-hpf { position: absolute; top: 44px; right: 6px; background: rgba(25,27,30,.9); color: #ffe119; border-radius: 4px;
  padding: 3px 8px; z-index: 3; font-variant-numeric: tabular-nums; pointer-events: none; }
.xl-hpf.xl-hidden { display: none; }
.xl-viewpanel table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.xl-viewpanel td, .xl-viewpanel th { padding: 1px 6px; text-align: right; border-bottom: 1px solid #333; }
.xl-viewpanel td:first-child, .xl-viewpanel th:first-child { text-align: left; }
.xl-viewpanel img { max-width: 100%; background: #fff; }
.xl-viewpanel pre { margin: 0; white-space: pre-wrap; }
.xl-viewpanel .xl-panel-error { color: #f88; }
.xl-panel h4 { margin: 6px 0 3px; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: #9aa; }
.xl-row { display: flex; align-items: center; gap: 4px; padding: 1px 0; }
.xl-row .xl-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; cursor: pointer; }
.xl-row .xl-count { color: #9aa; font-variant-numeric: tabular-nums; }
.xl-row input[type=color] { width: 18px; height: 18px; padding: 0; border: none; background: none; }
.xl-row input[type=range] { width: 60px; }
.xl-row.xl-current .xl-name { font-weight: 600; color: #fff; }
.xl-key { display: inline-block; min-width: 14px; text-align: center; color: #123; background: #cde; border-radius: 2px; font-size: 10px; }
.xl-swatch { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
.xl-adjust label { display: flex; align-items: center; justify-content: space-between; gap: 4px; }
.xl-adjust input[type=range] { width: 110px; }
.xl-status { position: absolute; left: 0; right: 0; bottom: 0; height: 22px; display: flex; gap: 12px; align-items: center;
  padding: 0 8px; background: #111; color: #bbb; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; }
.xl-status .xl-msg { margin-left: auto; color: #eec; }
.xl-status .xl-msg.xl-error { color: #f88; }
.xl-status .xl-msg.xl-warn { color: #fc6; }
.xl-overview { position: absolute; right: 6px; bottom: 28px; border: 1px solid #666; background: #000; z-index: 2; cursor: pointer; }
.xl-scalebar { position: absolute; left: 8px; bottom: 30px; z-index: 2; color: #fff; text-shadow: 0 0 2px #000, 0 0 2px #000; }
.xl-scalebar div { height: 4px; border: 2px solid #fff; border-top: none; box-shadow: 0 1px 2px #000; }
.xl-banner { position: absolute; left: 50%; top: 40%; transform: translate(-50%, -50%); max-width: 80%; z-index: 4;
  background: rgba(60,20,20,.95); color: #fdd; border: 1px solid #a55; padding: 10px 14px; border-radius: 4px; white-space: pre-wrap; }
.xl-banner.xl-hidden { display: none; }
.xl-media { position: absolute; right: 6px; top: 40px; z-index: 3; background: rgba(20,20,20,.9); border: 1px solid #666;
  padding: 4px; max-width: 320px; color: #ddd; font: 11px sans-serif; }
.xl-media img, .xl-media video { max-width: 310px; max-height: 220px; display: block; }
.xl-media audio { width: 300px; display: block; }
.xl-media.xl-hidden, .xl-strip.xl-hidden { display: none; }
.xl-strip { position: absolute; left: 50%; transform: translateX(-50%); top: 40px; z-index: 3; display: flex; gap: 4px;
  max-width: 60%; overflow-x: auto; }
.xl-strip-item { font: 11px sans-serif; background: rgba(30,30,30,.85); color: #ccc; border: 1px solid #555;
  padding: 2px 6px; cursor: pointer; white-space: nowrap; }
.xl-strip-item.xl-current { border-color: #facc15; color: #fff; }
`;

export function injectStyle(): void {
  if (document.getElementById("exact-lab-viewer-style")) return;
  const style = document.createElement("style");
  style.id = "exact-lab-viewer-style";
  style.textContent = CSS;
  document.head.appendChild(style);
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, any> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el) (el as any)[k] = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(c);
  return el;
}

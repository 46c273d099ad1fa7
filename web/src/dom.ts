// Small DOM helpers. Text always goes in through text nodes, never as HTML.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") e.addEventListener(k.replace(/^on/, ""), v as EventListener);
    else if (k === "class") e.className = String(v);
    // Through the CSSOM: the dashboard's Content-Security-Policy (style-src 'self') blocks style attributes.
    else if (k === "style") e.style.cssText = String(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  append(e, ...children);
  return e;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

export function fmtNumber(v: number | null | undefined, unit = ""): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (unit === "s") {
    if (Math.abs(v) < 1) return `${(v * 1000).toPrecision(3).replace(/\.0+$|(\.\d*?)0+$/, "$1")} ms`;
    return `${v.toPrecision(3)} s`;
  }
  if (unit === "%") return `${(v * 100).toFixed(Math.abs(v) < 0.1 ? 2 : 1)}%`;
  if (unit === "pct") return `${v.toFixed(1)}%`;
  const a = Math.abs(v);
  let text: string;
  if (a >= 1e9) text = `${(v / 1e9).toFixed(2)}G`;
  else if (a >= 1e6) text = `${(v / 1e6).toFixed(2)}M`;
  else if (a >= 1e4) text = `${(v / 1e3).toFixed(1)}k`;
  else if (a >= 100) text = v.toFixed(0);
  else if (Number.isInteger(v)) text = String(v);
  else if (a >= 1) text = v.toFixed(2);
  else if (a === 0) text = "0";
  else text = v.toPrecision(2);
  return unit ? `${text} ${unit}` : text;
}

export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function fmtTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

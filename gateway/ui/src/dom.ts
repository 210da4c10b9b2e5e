// Tiny DOM helpers. Every value from the API (landing pages, referrers,
// campaign names come from visitors' browsers) goes in as text, never as
// HTML.

type Kid = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | null | undefined | ((e: Event) => void);

/** h builds an element: attributes ("on…" functions become listeners), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, Attr> | null,
  ...kids: Kid[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, ...kids);
  return el;
}

export function append(el: Node, ...kids: Kid[]): void {
  for (const k of kids) {
    if (k == null || k === false) continue;
    el.appendChild(typeof k === "object" ? k : document.createTextNode(String(k)));
  }
}

/** put replaces el's children. */
export function put(el: Element, ...kids: Kid[]): void {
  el.replaceChildren();
  append(el, ...kids);
}

export function $<T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error("dashboard: missing " + sel);
  return el;
}

/** body is a panel's content element. */
export const body = (panel: string) => $(`#${panel} > .body`);

/** empty is an empty state: what is missing and what to do next. */
export function empty(...kids: Kid[]): HTMLElement {
  return h("div", { class: "empty" }, ...kids);
}

export function code(text: string): HTMLElement {
  return h("code", null, text);
}

export interface Col<R> {
  label: string;
  num?: boolean; // right-aligned, tabular
  cell: (r: R) => Kid;
  key?: string; // data-col, for tests and styling
}

/** table renders rows under a header; foot is an optional totals row. */
export function table<R>(cols: Col<R>[], rows: R[], opts: { caption?: string; foot?: Kid[]; row?: (tr: HTMLTableRowElement, r: R) => void } = {}): HTMLTableElement {
  const th = cols.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label));
  const tbody = h("tbody");
  for (const r of rows) {
    const tr = h("tr", null, ...cols.map((c) => h("td", { class: c.num ? "num" : null, "data-col": c.key }, c.cell(r))));
    opts.row?.(tr, r);
    tbody.appendChild(tr);
  }
  const t = h("table", null, opts.caption ? h("caption", { class: "visually-hidden" }, opts.caption) : null, h("thead", null, h("tr", null, ...th)), tbody);
  if (opts.foot) {
    t.appendChild(h("tfoot", null, h("tr", null, ...opts.foot.map((k, i) => (i === 0 ? h("th", { scope: "row" }, k) : h("td", { class: "num" }, k))))));
  }
  return t;
}

/** bar is a horizontal bar for a share in [0, 1]; decoration only (the number is beside it). */
export function bar(share: number, color?: string): HTMLElement {
  const fill = h("span", { class: "fill" });
  fill.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
  if (color) fill.style.background = color;
  return h("span", { class: "bar", "aria-hidden": "true" }, fill);
}

// The report panels: each renders one report's rows (sql/reports/NAME.sql)
// into its section. Numbers are written with format.ts so they read back
// to the API's.

import type { Result, Row } from "./api";
import { addDays } from "./state";
import { h, put, body, empty, code, table, bar, $, type Col } from "./dom";
import { int, money, frac, pct, num, time, minutes, verdict, channelColor, modelNames } from "./format";
import { stackedBars } from "./chart";

const str = (v: unknown) => (v == null ? "" : String(v));
const orDash = (v: unknown) => str(v) || "—";

/** Handlers the panels call back into (main.ts). */
export interface Actions {
  explain(taskID: string): void;
  journey(person: string): void;
}

const noCalls = () =>
  empty(
    h("p", null, h("strong", null, "No phone calls in this period.")),
    h("p", null, "Connect a call-tracking provider: CallRail, CallTrackingMetrics and Invoca post to ", code("/v1/calls/{provider}"),
      "; anything that writes Salesforce-style Tasks posts them to ", code("/v1/tasks"), " or imports a CSV export with ",
      code("calltrail import tasks FILE.csv"), ". How each one is set up is in ", code("docs/calls.md"), "."),
  );

const noCallsShort = () => empty(h("p", null, h("strong", null, "No phone calls in this period."), " Connecting a provider: see the panel above and ", code("docs/calls.md"), "."));

// ── Headline cards (summary) ────────────────────────────────────────────

const cardFormat: Record<string, (v: unknown) => string> = {
  sessions: int, visitors: int, touchpoints: int, calls: int, calls_merged: int,
  call_match_rate: pct, revenue_won: money, pipeline: money,
};

export function summary(res: Result): Row {
  const row = res.rows[0] ?? {};
  for (const [metric, f] of Object.entries(cardFormat)) {
    $(`#summary [data-metric="${metric}"] .value`).textContent = f(row[metric]);
  }
  return row;
}

export const isEmpty = (row: Row) => !num(row.sessions) && !num(row.touchpoints) && !num(row.calls) && !num(row.revenue_won) && !num(row.pipeline);

/** noData fills the notice when the period shows nothing; anyData tells whether the store has any at all. */
export function noData(from: string, to: string, anyData: boolean, seed?: () => void): HTMLElement {
  if (anyData) {
    return h("div", null, h("p", null, h("strong", null, `Nothing was recorded between ${from} and ${to}.`)),
      h("p", null, "There is data in other periods: choose Last 90 days or a custom range."));
  }
  const tag = `<script async src="${location.origin}/calltrail.js" data-site="YOUR-SITE"></script>`;
  return h("div", null,
    h("p", null, h("strong", null, "No data yet.")),
    h("p", null, "Paste the site script tag on every page of your marketing site:"),
    h("pre", null, code(tag)),
    h("p", null, "or load a month of demo data with ", code("calltrail demo seed"), " to see what the reports look like."),
    seed ? h("p", null, h("button", { type: "button", id: "demo-seed", onclick: seed }, "Load demo data")) : null,
  );
}

// ── Touchpoints by channel × type (touchpoints_by_channel) ───────────────

/** ranked lists keys by their summed count, largest first. */
function ranked(rows: Row[], key: string, count: string): string[] {
  const total = new Map<string, number>();
  for (const r of rows) total.set(str(r[key]), (total.get(str(r[key])) ?? 0) + num(r[count]));
  return [...total.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map((e) => e[0]);
}

export function touchpoints(res: Result): void {
  const el = body("touchpoints");
  if (!res.rows.length) {
    put(el, empty(h("p", null, h("strong", null, "No touchpoints in this period.")),
      h("p", null, "A touchpoint is a form fill, a chat, a call, or the first visit of a person who converted. They appear once the site script records visits and forms.")));
    return;
  }
  const channels = ranked(res.rows, "marketing_channel", "touchpoints");
  const types = ranked(res.rows, "touchpoint_type", "touchpoints");
  const cell = new Map(res.rows.map((r) => [`${r.marketing_channel}\u0000${r.touchpoint_type}`, num(r.touchpoints)]));
  const rowTotal = (c: string) => types.reduce((s, t) => s + (cell.get(`${c}\u0000${t}`) ?? 0), 0);
  const colTotal = (t: string) => channels.reduce((s, c) => s + (cell.get(`${c}\u0000${t}`) ?? 0), 0);
  const grand = channels.reduce((s, c) => s + rowTotal(c), 0);
  const max = Math.max(...res.rows.map((r) => num(r.touchpoints)));
  const cols: Col<string>[] = [
    { label: "Channel", cell: (c) => h("span", { class: "chan" }, swatch(channelColor(c)), c || "(none)") },
    ...types.map((t) => ({
      label: t || "(none)", num: true, key: "cell",
      cell: (c: string) => {
        const n = cell.get(`${c}\u0000${t}`);
        return n ? h("span", { class: "heat", "data-channel": c, "data-type": t, "data-heat": String(Math.ceil((n / max) * 4)) }, int(n)) : h("span", { class: "zero" }, "·");
      },
    })),
    { label: "Total", num: true, key: "total", cell: (c) => h("span", { class: "with-bar" }, bar(rowTotal(c) / grand, channelColor(c)), h("span", { "data-channel": c, "data-total": "" }, int(rowTotal(c)))) },
  ];
  put(el, h("div", { class: "scroll" }, table(cols, channels, {
    caption: "Touchpoints: channels in rows, touchpoint types in columns",
    foot: ["Total", ...types.map((t) => int(colTotal(t))), h("span", { "data-grand-total": "" }, int(grand))],
  })));
}

const swatch = (color: string) => {
  const s = h("span", { class: "swatch", "aria-hidden": "true" });
  s.style.background = color;
  return s;
};

// ── Phone calls by channel per day/week (calls_by_channel) ──────────────

let removeChart: (() => void) | null = null;

/** periods lists every day (or Monday) of the range, so quiet days show as zero. */
function periods(from: string, to: string, grain: "day" | "week"): string[] {
  let d = from;
  if (grain === "week") {
    const dow = (new Date(from + "T00:00:00Z").getUTCDay() + 6) % 7; // Monday = 0
    d = addDays(from, -dow);
  }
  const out: string[] = [];
  for (; d <= to && out.length < 800; d = addDays(d, grain === "week" ? 7 : 1)) out.push(d);
  return out;
}

export function callsByChannel(res: Result, grain: "day" | "week"): void {
  removeChart?.();
  removeChart = null;
  const el = body("calls-chart");
  if (!res.rows.length) {
    put(el, noCalls());
    return;
  }
  const days = periods(res.from, res.to, grain);
  const index = new Map(days.map((d, i) => [d, i]));
  const channels = ranked(res.rows, "marketing_channel", "calls");
  const stacks = channels.map((c) => ({ label: c || "(none)", color: channelColor(c), values: days.map(() => 0) }));
  for (const r of res.rows) {
    const i = index.get(str(r.period).slice(0, 10));
    if (i != null) stacks[channels.indexOf(str(r.marketing_channel))].values[i] += num(r.calls);
  }
  const total = res.rows.reduce((s, r) => s + num(r.calls), 0);
  const plot = h("div", { class: "chart", role: "img", "aria-label": `Stacked bars of ${total} phone calls per ${grain} by channel; the table below has the numbers.` });

  // The table: one row per channel, source and campaign over the whole period.
  const groups = new Map<string, { channel: string; source: string; campaign: string; calls: number; merged: number }>();
  for (const r of res.rows) {
    const k = `${r.marketing_channel}\u0000${r.touchpoint_source}\u0000${r.ad_campaign_name}`;
    const g = groups.get(k) ?? { channel: str(r.marketing_channel), source: str(r.touchpoint_source), campaign: str(r.ad_campaign_name), calls: 0, merged: 0 };
    g.calls += num(r.calls);
    g.merged += num(r.merged);
    groups.set(k, g);
  }
  const list = [...groups.values()].sort((a, b) => b.calls - a.calls || a.channel.localeCompare(b.channel));
  const merged = list.reduce((s, g) => s + g.merged, 0);
  type G = (typeof list)[number];
  const cols: Col<G>[] = [
    { label: "Channel", cell: (g) => h("span", { class: "chan" }, swatch(channelColor(g.channel)), g.channel || "(none)") },
    { label: "Source", cell: (g) => orDash(g.source) },
    { label: "Campaign", cell: (g) => orDash(g.campaign) },
    { label: "Calls", num: true, key: "calls", cell: (g) => int(g.calls) },
    { label: "Merged", num: true, key: "merged", cell: (g) => int(g.merged) },
  ];
  put(el, plot, h("div", { class: "scroll short" }, table(cols, list, {
    caption: "Phone calls by channel, source and campaign",
    foot: ["Total", "", "", h("span", { "data-calls-total": "" }, int(total)), int(merged)],
  })));
  removeChart = stackedBars(plot, days, stacks, grain);
}

// ── Call match rate (call_match_rate) ───────────────────────────────────

export function matchRate(res: Result): void {
  const el = body("match-rate");
  if (!res.rows.length) {
    put(el, noCallsShort());
    return;
  }
  const strip = h("div", { class: "strip", "aria-hidden": "true" });
  for (const r of res.rows) {
    const seg = h("span", { title: `${verdict(r.verdict).label}: ${pct(r.share)}` });
    seg.style.width = `${num(r.share) * 100}%`;
    seg.style.background = verdict(r.verdict).color;
    strip.appendChild(seg);
  }
  const total = res.rows.reduce((s, r) => s + num(r.calls), 0);
  put(el, strip, table<Row>([
    { label: "Verdict", cell: (r) => h("span", { class: "chan" }, swatch(verdict(r.verdict).color), verdict(r.verdict).label) },
    { label: "Calls", num: true, key: "calls", cell: (r) => h("span", { "data-verdict": str(r.verdict) }, int(r.calls)) },
    { label: "Share", num: true, key: "share", cell: (r) => h("span", { "data-verdict-share": str(r.verdict) }, pct(r.share)) },
  ], res.rows, { caption: "Calls by verdict", foot: ["Total", int(total), ""] }));
}

// ── Revenue and pipeline by channel (revenue_by_channel) ────────────────

export function revenue(res: Result, model: string, anyOpportunity: boolean): void {
  const el = body("revenue");
  if (!res.rows.length) {
    put(el, empty(anyOpportunity
      ? h("p", null, h("strong", null, "Opportunities were created in this period, but none belongs to a person with touchpoints."),
        " An opportunity is tied to a person by its ContactId (a call's WhoId) or its email (a form's); check that your CRM export carries one of them.")
      : h("p", null, h("strong", null, "No opportunities created in this period."), " Import them with ", code("calltrail import opportunities FILE.csv"),
        " or send them to ", code("POST /v1/opportunities"), "; their revenue is then credited to the touchpoints of the people they belong to.")));
    return;
  }
  if (model) {
    const max = Math.max(...res.rows.map((r) => num(r.revenue_won)), 1e-9);
    const sum = (k: string) => res.rows.reduce((s, r) => s + num(r[k]), 0);
    put(el, h("div", { class: "scroll" }, table<Row>([
      { label: "Channel", cell: (r) => h("span", { class: "chan" }, swatch(channelColor(str(r.marketing_channel))), orDash(r.marketing_channel)) },
      { label: "Revenue won", num: true, key: "revenue_won", cell: (r) => h("span", { class: "with-bar" }, bar(num(r.revenue_won) / max, channelColor(str(r.marketing_channel))), h("span", { "data-channel": str(r.marketing_channel), "data-k": "revenue_won" }, money(r.revenue_won))) },
      { label: "Open pipeline", num: true, key: "pipeline", cell: (r) => h("span", { "data-channel": str(r.marketing_channel), "data-k": "pipeline" }, money(r.pipeline)) },
      { label: "Opportunities credited", num: true, key: "opportunities", cell: (r) => h("span", { "data-channel": str(r.marketing_channel), "data-k": "opportunities", title: str(r.opportunities) }, frac(r.opportunities)) },
    ], res.rows, {
      caption: `Revenue by channel, ${modelNames[model] ?? model} model`,
      foot: ["Total", h("span", { "data-revenue-total": "" }, money(sum("revenue_won"))), money(sum("pipeline")), frac(sum("opportunities"))],
    })), h("p", { class: "muted" }, `${modelNames[model] ?? model}: each opportunity created in the period splits its amount over its person's touchpoints; won revenue and open pipeline per channel.`));
    return;
  }
  // All models: revenue won per channel (rows) and model (columns).
  const models = Object.keys(modelNames).filter((m) => res.rows.some((r) => r.model === m));
  const channels = ranked(res.rows, "marketing_channel", "revenue_won");
  const cell = new Map(res.rows.map((r) => [`${r.marketing_channel}\u0000${r.model}`, r]));
  put(el, h("div", { class: "scroll" }, table<string>([
    { label: "Channel", cell: (c) => h("span", { class: "chan" }, swatch(channelColor(c)), c || "(none)") },
    ...models.map((m) => ({
      label: modelNames[m], num: true,
      cell: (c: string) => {
        const r = cell.get(`${c}\u0000${m}`);
        return h("span", { "data-channel": c, "data-model": m, title: r ? `pipeline ${money(r.pipeline)}` : null }, r ? money(r.revenue_won) : "·");
      },
    })),
  ], channels, { caption: "Revenue won by channel under each model" })), h("p", { class: "muted" }, "Revenue won per channel under each attribution model; choose one model to see pipeline and opportunities too."));
}

// ── Calls table (calls) ─────────────────────────────────────────────────

const PAGE = 50;

/** rowsFocusable makes table rows open an explanation by click, Enter or Space, and move with the arrow keys. */
function clickable(tr: HTMLTableRowElement, taskID: string, label: string, act: Actions): void {
  tr.tabIndex = 0;
  tr.classList.add("clickable");
  tr.dataset.taskId = taskID;
  tr.setAttribute("aria-label", label);
  tr.addEventListener("click", (e) => {
    if (!(e.target as Element).closest("button")) act.explain(taskID);
  });
  tr.addEventListener("keydown", (e) => {
    if (e.target !== tr) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      act.explain(taskID);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = (e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
      next?.focus();
    }
  });
}

const visitor = (uid: unknown, act: Actions) =>
  str(uid) ? h("button", { type: "button", class: "link mono", title: `Journey of ${uid}`, onclick: () => act.journey(str(uid)) }, str(uid).slice(0, 8) + "…") : "—";

const verdictBadge = (v: unknown) => {
  const b = h("span", { class: "badge" }, verdict(v).label);
  b.style.borderColor = verdict(v).color;
  b.style.color = verdict(v).color;
  return b;
};

export function calls(res: Result, act: Actions): void {
  const el = body("calls");
  if (!res.rows.length) {
    put(el, noCalls());
    return;
  }
  const cols: Col<Row>[] = [
    { label: "Time (UTC)", cell: (r) => time(r.call_time) },
    { label: "Verdict", key: "verdict", cell: (r) => verdictBadge(r.verdict) },
    { label: "Type", cell: (r) => orDash(r.task_type) },
    { label: "Channel", cell: (r) => orDash(r.marketing_channel_path) },
    { label: "Campaign", cell: (r) => orDash(r.ad_campaign_name) },
    { label: "Position", cell: (r) => orDash(r.touchpoint_position) },
    { label: "Provider", cell: (r) => orDash(r.source) },
    { label: "Visitor", cell: (r) => visitor(r.uid, act) },
  ];
  let shown = 0;
  const t = table(cols, [] as Row[], { caption: "Calls, newest first; select a row for its explanation" });
  const tbody = $("tbody", t);
  const count = h("p", { class: "muted count" });
  const more = h("button", { type: "button", class: "more" }, `Show ${PAGE} more`);
  const page = () => {
    for (const r of res.rows.slice(shown, shown + PAGE)) {
      const tr = h("tr", null, ...cols.map((c) => h("td", { "data-col": c.key }, c.cell(r))));
      clickable(tr, str(r.task_id), `Call at ${time(r.call_time)}, ${verdict(r.verdict).label}: open its explanation`, act);
      tbody.appendChild(tr);
    }
    shown = Math.min(res.rows.length, shown + PAGE);
    count.textContent = `Showing ${shown} of ${res.rows.length} calls${res.rows.length >= 1000 ? " (the 1,000 newest)" : ""}.`;
    more.hidden = shown >= res.rows.length;
  };
  more.addEventListener("click", page);
  page();
  put(el, h("div", { class: "scroll tall" }, t), h("div", { class: "pager" }, count, more));
}

// ── Unmatched calls by verdict (unmatched_calls) ────────────────────────

export function unmatched(res: Result, anyCalls: boolean, act: Actions): void {
  const el = body("unmatched");
  if (!res.rows.length) {
    put(el, anyCalls ? empty(h("p", null, h("strong", null, "Every call in this period was merged into a web session."), " Nothing to fix.")) : noCallsShort());
    return;
  }
  const order = ["no_bizible_id", "no_session", "outside_window"]; // the most to fix first
  const byVerdict = new Map<string, Row[]>();
  for (const r of res.rows) byVerdict.set(str(r.verdict), [...(byVerdict.get(str(r.verdict)) ?? []), r]);
  const rank = (v: string) => (order.includes(v) ? order.indexOf(v) : order.length);
  const keys = [...byVerdict.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  put(el, ...keys.map((v, i) => {
    const rows = byVerdict.get(v)!;
    const t = table<Row>([
      { label: "Time (UTC)", cell: (r) => time(r.call_time) },
      { label: "Type", cell: (r) => orDash(r.task_type) },
      { label: "Visitor", cell: (r) => visitor(r.uid, act) },
      { label: "Minutes after session start", num: true, cell: (r) => minutes(r.minutes_from_session_start) },
    ], rows, { caption: `Calls with verdict ${verdict(v).label}`, row: (tr, r) => clickable(tr, str(r.task_id), `Call at ${time(r.call_time)}: open its explanation`, act) });
    return h("details", { class: "group", "data-verdict-group": v, open: i === 0 },
      h("summary", null, verdictBadge(v), " ", h("span", { "data-count": "" }, int(rows.length)), rows.length === 1 ? " call" : " calls"),
      h("p", null, str(rows[0].what_it_means)),
      h("p", { class: "todo" }, h("strong", null, "What to do: "), verdict(v).todo),
      h("div", { class: "scroll short" }, t));
  }));
}

// CallTrail's dashboard (GET /). The shell is plain HTML and paints before
// this script runs; the script asks for the token once, then loads every
// report in parallel and fills each panel as its answer comes.

import { token, report, check, demoSeed, AuthError, type Row } from "./api";
import { read, write, presetRange, today, type View, type Preset } from "./state";
import { $, body, h, put } from "./dom";
import { num } from "./format";
import * as panels from "./panels";
import { openExplain, bindExplain, closeExplain } from "./explain";
import { loadJourney } from "./journey";

let view: View = read();
let generation = 0;
let aborter: AbortController | null = null;

const dash = $("#dash");
const tokenView = $("#token-view");
const rangeForm = $<HTMLFormElement>("#range");
const notice = $("#notice");
/** setState is what tests wait for (data-state); the first "ready" is marked for timing. */
function setState(s: string): void {
  document.body.dataset.state = s;
  if (s === "ready" && !performance.getEntriesByName("dashboard-ready").length) performance.mark("dashboard-ready");
}

// ── Token ───────────────────────────────────────────────────────────────

function showToken(reason: string): void {
  aborter?.abort();
  generation++;
  closeExplain();
  token.clear();
  dash.hidden = rangeForm.hidden = $("#signout").hidden = true;
  tokenView.hidden = false;
  const why = $("#token-reason");
  why.hidden = !reason;
  why.textContent = reason ? `The gateway refused the token: ${reason}` : "";
  $<HTMLInputElement>("#token-input").focus();
  setState("token");
}

function showDash(): void {
  tokenView.hidden = true;
  dash.hidden = rangeForm.hidden = $("#signout").hidden = false;
}

/** failed handles a load's error: a 401 goes back to the token form, the rest shows where it happened. */
function failed(err: unknown, panel?: string): void {
  if (err instanceof AuthError) return showToken(err.message);
  if ((err as Error)?.name === "AbortError") return;
  const msg = h("p", { class: "error", role: "alert" }, (err as Error).message);
  if (panel) return put(body(panel), msg);
  notice.hidden = false;
  notice.append(msg);
}

$<HTMLFormElement>("#token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("#token-input");
  token.set(input.value);
  try {
    await check();
  } catch (err) {
    if (err instanceof AuthError) return showToken(err.message);
    $("#token-reason").hidden = false;
    $("#token-reason").textContent = `Could not reach the gateway: ${(err as Error).message}`;
    return;
  }
  input.value = "";
  showDash();
  load();
});

$("#signout").addEventListener("click", () => showToken(""));

// ── Date range, grain, model ───────────────────────────────────────────

function syncControls(): void {
  for (const r of rangeForm.querySelectorAll<HTMLInputElement>('input[name="preset"]')) r.checked = r.value === view.preset;
  $<HTMLInputElement>('input[name="from"]', rangeForm).value = view.from;
  $<HTMLInputElement>('input[name="to"]', rangeForm).value = view.to;
  $<HTMLInputElement>('input[name="to"]', rangeForm).max = today();
  for (const r of document.querySelectorAll<HTMLInputElement>('#calls-chart input[name="grain"]')) r.checked = r.value === view.grain;
  $<HTMLSelectElement>('#revenue select[name="model"]').value = view.model;
}

rangeForm.addEventListener("change", (e) => {
  const t = e.target as HTMLInputElement;
  if (t.name === "preset" && t.value !== "custom") {
    view = { ...view, preset: t.value as Preset, ...presetRange(Number(t.value)) };
    write(view);
    syncControls();
    load();
  } else if (t.name === "from" || t.name === "to") {
    for (const r of rangeForm.querySelectorAll<HTMLInputElement>('input[name="preset"]')) r.checked = r.value === "custom";
  }
});

rangeForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const from = $<HTMLInputElement>('input[name="from"]', rangeForm).value;
  const to = $<HTMLInputElement>('input[name="to"]', rangeForm).value;
  if (!from || !to || from > to) {
    notice.hidden = false;
    put(notice, h("p", { class: "error" }, "Choose a From date on or before the To date."));
    return;
  }
  view = { ...view, preset: "custom", from, to };
  write(view);
  syncControls();
  load();
});

for (const r of document.querySelectorAll<HTMLInputElement>('#calls-chart input[name="grain"]')) {
  r.addEventListener("change", () => {
    view = { ...view, grain: r.value === "week" ? "week" : "day" };
    write(view);
    track(loadCallsChart(generation, aborter?.signal));
  });
}

$<HTMLSelectElement>('#revenue select[name="model"]').addEventListener("change", (e) => {
  view = { ...view, model: (e.target as HTMLSelectElement).value };
  write(view);
  track(loadRevenue(generation, aborter?.signal));
});

// ── Explanations and journeys ──────────────────────────────────────────

const actions: panels.Actions = {
  explain(taskID) {
    view = { ...view, call: taskID };
    write(view);
    openExplain(taskID, { journey: actions.journey, closed: () => {}, failed: (err) => failed(err) });
  },
  journey(person) {
    closeExplain();
    view = { ...view, person };
    write(view);
    $("#journey").scrollIntoView({ block: "start" });
    track(journey(person, generation, aborter?.signal));
  },
};

bindExplain({
  closed() {
    view = { ...view, call: "" };
    write(view);
  },
});

$<HTMLFormElement>("#journey-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const person = $<HTMLInputElement>("#journey-input").value.trim();
  if (person) actions.journey(person);
});

// ── Loading ─────────────────────────────────────────────────────────────

const range = () => ({ from: view.from, to: view.to });
let summaryRow: Promise<Row> = Promise.resolve({});

/** track marks the page busy until p settles (tests wait for data-state=ready). */
let pending = 0;
function track(p: Promise<unknown>): void {
  pending++;
  setState("loading");
  p.catch(() => {}).finally(() => {
    if (--pending === 0 && tokenView.hidden) setState("ready");
  });
}

async function panel<T>(g: number, name: string, p: Promise<T>, render: (v: T) => void): Promise<void> {
  try {
    const v = await p;
    if (g === generation) render(v);
  } catch (err) {
    if (g === generation) failed(err, name);
  }
}

function loadCallsChart(g: number, signal?: AbortSignal): Promise<void> {
  return panel(g, "calls-chart", report("calls_by_channel", { ...range(), grain: view.grain }, signal), (r) => panels.callsByChannel(r, view.grain));
}

async function loadRevenue(g: number, signal?: AbortSignal): Promise<void> {
  const model = view.model;
  const res = report("revenue_by_channel", { ...range(), model }, signal);
  const row = await summaryRow;
  return panel(g, "revenue", res, (r) => panels.revenue(r, model, num(row.revenue_won) + num(row.pipeline) > 0));
}

function journey(person: string, g: number, signal?: AbortSignal): Promise<void> {
  return loadJourney(person, range(), actions.explain, signal).then(() => {}, (err) => {
    if (g === generation) failed(err, "journey");
  });
}

/** emptyNotice explains an empty period: no data at all (what to do first) or none in this range. */
async function emptyNotice(g: number, signal: AbortSignal): Promise<void> {
  const all = await report("summary", { from: "2000-01-01", to: today() }, signal);
  const anyData = !panels.isEmpty(all.rows[0] ?? {});
  const seed = anyData ? undefined : seedDemo;
  if (g !== generation) return;
  notice.hidden = false;
  put(notice, panels.noData(view.from, view.to, anyData, seed));
}

async function seedDemo(): Promise<void> {
  const button = $<HTMLButtonElement>("#demo-seed");
  button.disabled = true;
  button.textContent = "Loading demo data…";
  try {
    await demoSeed();
    load();
  } catch (err) {
    failed(err);
    button.disabled = false;
    button.textContent = "Load demo data";
    notice.append(h("p", { class: "error" }, (err as Error).message));
  }
}

function load(): void {
  aborter?.abort();
  aborter = new AbortController();
  const { signal } = aborter;
  const g = ++generation;
  notice.hidden = true;
  for (const p of ["calls-chart", "match-rate", "touchpoints", "revenue", "calls", "unmatched"]) put(body(p), h("p", { class: "loading" }, "Loading…"));
  for (const v of document.querySelectorAll("#summary .value")) v.textContent = "…";

  // All at once, in page order: the store answers a few at a time, so the
  // panels at the top of the page come first.
  const summary = report("summary", range(), signal);
  summaryRow = summary.then((r) => r.rows[0] ?? {}, () => ({}));
  const jobs = [
    panel(g, "", summary, (r) => {
      const row = panels.summary(r);
      if (panels.isEmpty(row)) track(emptyNotice(g, signal).catch((err) => failed(err)));
    }),
    loadCallsChart(g, signal),
    panel(g, "match-rate", report("call_match_rate", range(), signal), panels.matchRate),
    panel(g, "touchpoints", report("touchpoints_by_channel", range(), signal), panels.touchpoints),
    loadRevenue(g, signal),
    panel(g, "calls", report("calls", range(), signal), (r) => panels.calls(r, actions)),
    panel(g, "unmatched", Promise.all([report("unmatched_calls", range(), signal), summaryRow]), ([r, s]) => panels.unmatched(r, num(s.calls) > 0, actions)),
  ];
  if (view.person) jobs.push(journey(view.person, g, signal));
  for (const j of jobs) track(j);
  if (view.call) actions.explain(view.call);
}

// ── Start ───────────────────────────────────────────────────────────────

syncControls();
if (token.get()) {
  showDash();
  load();
} else {
  showToken("");
}

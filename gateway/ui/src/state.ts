// The view's state lives in the URL query, so a view can be shared:
// range=7|30|90 or from=&to= (custom), grain, model, person (the journey),
// call (the open explanation).

export type Preset = "7" | "30" | "90" | "custom";

export interface View {
  preset: Preset;
  from: string; // YYYY-MM-DD, inclusive (UTC dates, as the reports)
  to: string;
  grain: "day" | "week";
  model: string; // "" = all models
  person: string;
  call: string;
}

const date = /^\d{4}-\d\d-\d\d$/;

export const today = (): string => new Date().toISOString().slice(0, 10);

/** addDays shifts a YYYY-MM-DD date. */
export function addDays(d: string, n: number): string {
  const t = new Date(d + "T00:00:00Z");
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}

/** presetRange is the last n days up to today, as the API's default (30). */
export function presetRange(n: number): { from: string; to: string } {
  const to = today();
  return { from: addDays(to, -(n - 1)), to };
}

export function read(q = new URLSearchParams(location.search)): View {
  const v: View = {
    preset: "30",
    ...presetRange(30),
    grain: q.get("grain") === "week" ? "week" : "day",
    model: q.has("model") ? q.get("model")! : "u_shaped",
    person: q.get("person") ?? "",
    call: q.get("call") ?? "",
  };
  const from = q.get("from") ?? "", to = q.get("to") ?? "";
  const range = q.get("range");
  if (date.test(from) && date.test(to) && from <= to) Object.assign(v, { preset: "custom", from, to });
  else if (range === "7" || range === "90") Object.assign(v, { preset: range }, presetRange(Number(range)));
  return v;
}

/** write puts the view in the URL without a reload or a history entry. */
export function write(v: View): void {
  const q = new URLSearchParams();
  if (v.preset === "custom") {
    q.set("from", v.from);
    q.set("to", v.to);
  } else if (v.preset !== "30") q.set("range", v.preset);
  if (v.grain !== "day") q.set("grain", v.grain);
  if (v.model !== "u_shaped") q.set("model", v.model);
  if (v.person) q.set("person", v.person);
  if (v.call) q.set("call", v.call);
  const s = q.toString();
  history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
}

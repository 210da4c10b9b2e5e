// How numbers and times are written. One locale (en-US) so that what the
// page shows reads back to exactly the API's numbers.

const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const moneyFmt = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const fracFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));

/** int writes 12,345. */
export const int = (v: unknown) => intFmt.format(num(v));
/** money writes 12,345.60 (amounts carry no currency in CallTrail). */
export const money = (v: unknown) => moneyFmt.format(num(v));
/** frac writes a fractional count: 1.33. */
export const frac = (v: unknown) => fracFmt.format(num(v));
/** pct writes a share (0.6667) as 66.67%. */
export const pct = (v: unknown) => `${(Math.round(num(v) * 10000) / 100).toFixed(2)}%`;

/** time writes ClickHouse's "2026-09-01 09:05:00.000" or an ISO time as 2026-09-01 09:05 (UTC). */
export function time(v: unknown): string {
  const s = String(v ?? "");
  if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(s) && !/[zZ]|[+-]\d\d:?\d\d$/.test(s)) return s.slice(0, 16).replace("T", " ");
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : d.toISOString().slice(0, 16).replace("T", " ");
}

export const minutes = (v: unknown) => (v == null ? "—" : `${frac(v)} min`);

export interface Verdict {
  label: string;
  color: string;
  todo: string;
}

/** verdicts: call_matches.verdict → how the dashboard names it and what to do. */
export const verdicts: Record<string, Verdict> = {
  merged: {
    label: "Merged",
    color: "#2e7d4f",
    todo: "Nothing to do: the call gave its web session a call touchpoint.",
  },
  outside_window: {
    label: "Outside the window",
    color: "#946200",
    todo: "Nothing is broken: the caller rang long after the session began, so the call has its own CRM Task touchpoint. If your callers usually ring later, the window and its anchor are settings (--call-window, --call-anchor; docs/calls.md).",
  },
  no_session: {
    label: "No session",
    color: "#7b61a8",
    todo: "Check that the site script is on the page the caller saw and that the provider sends the visitor id of that site. If the visit's events arrive later, the call is merged then.",
  },
  no_bizible_id: {
    label: "No visitor id",
    color: "#c0392b",
    todo: "Escalate to the call-tracking provider: its script must read the _biz_uid cookie and send it with every call (docs/calls.md, Connecting a provider).",
  },
};

export const verdict = (v: unknown): Verdict => verdicts[String(v)] ?? { label: String(v), color: "#6b7280", todo: "" };

const channelColors: Record<string, string> = {
  "Paid Search": "#2f6db5",
  "Organic Search": "#3c9a5f",
  "Paid Social": "#d9822b",
  Social: "#e0b034",
  Email: "#8e5fb8",
  Display: "#4aa3b5",
  "Web Referral": "#a0522d",
  Direct: "#5b6b7f",
  Other: "#9aa5b1",
  "(no visitor id)": "#c0392b",
};
const spare = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];

/** channelColor gives each marketing channel one colour across the page. */
export function channelColor(name: string): string {
  if (channelColors[name]) return channelColors[name];
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return spare[h % spare.length];
}

export const modelNames: Record<string, string> = {
  first_touch: "First Touch",
  lead_creation: "Lead Creation",
  u_shaped: "U-Shaped",
  w_shaped: "W-Shaped",
  full_path: "Full Path",
  linear: "Linear",
};

// The API client: the bearer token (kept in this browser's localStorage),
// the reports and the explain endpoint. A 401 is an AuthError, which sends
// the page back to the token form with the server's reason.

const KEY = "calltrail.token";

export const token = {
  get: (): string => localStorage.getItem(KEY) ?? "",
  set: (t: string) => localStorage.setItem(KEY, t.trim()),
  clear: () => localStorage.removeItem(KEY),
};

export class AuthError extends Error {}

export type Row = Record<string, string | number | null>;

/** Result is GET /v1/reports/{name}'s answer. */
export interface Result {
  report: string;
  from: string;
  to: string;
  params?: Record<string, string>;
  columns: { name: string; type: string }[];
  rows: Row[];
}

async function request(method: string, path: string, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(path, { method, signal, headers: { Authorization: `Bearer ${token.get()}`, Accept: "application/json" } });
  if (res.status === 401) {
    const body = await res.json().catch(() => ({}));
    throw new AuthError(body.error || "The gateway refused this token.");
  }
  return res;
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await request("GET", path, signal);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`${path.split("?")[0]} answered ${res.status}${body.error ? `: ${body.error}` : ""}`);
  }
  return res.json();
}

export function report(name: string, params: Record<string, string>, signal?: AbortSignal): Promise<Result> {
  return get<Result>(`/v1/reports/${name}?${new URLSearchParams(params)}`, signal);
}

/** check proves the token with the cheapest protected call (the list of reports). */
export const check = () => get<unknown>("/v1/reports");

export interface Session {
  site: string;
  session_id: string;
  session_start: string;
  last_activity: string;
  landing_page: string;
  referrer_page: string;
  touchpoint_source: string;
  medium: string;
  campaign: string;
  marketing_channel: string;
  marketing_channel_path: string;
  minutes_before_call: number;
}

/** Explanation is GET /v1/calls/{task_id}/explain's answer (gateway/calls/explain.go). */
export interface Explanation {
  task_id: string;
  verdict: string;
  rule: { anchor: string; window_minutes: number; early_tolerance_minutes: number; text: string };
  call: { call_time: string; call_time_from: string; task_type: string; subject: string; source: string; uid: string; bizible_id: string; uid_source: string };
  timezone: string;
  session: Session | null;
  minutes_from_session_start: number | null;
  minutes_from_last_activity: number | null;
  nearest_session?: Session | null;
  touchpoint: {
    touchpoint_id: string;
    touchpoint_date: string;
    touchpoint_type: string;
    touchpoint_source: string;
    medium: string;
    marketing_channel_path: string;
    ad_campaign_name: string;
    landing_page: string;
    touchpoint_position: string;
  } | null;
  sentence: string;
}

export const explain = (taskID: string) => get<Explanation>(`/v1/calls/${encodeURIComponent(taskID)}/explain`);

/** demoSeed fills an empty store with a month of demo data (POST /v1/demo/seed). */
export async function demoSeed(): Promise<void> {
  const res = await request("POST", "/v1/demo/seed");
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`the demo seed failed (${res.status})${body.error ? `: ${body.error}` : ""}`);
  }
}

// The explanation of one call (GET /v1/calls/{task_id}/explain) in a modal
// dialog: the sentence first, then the facts it rests on.

import { explain, type Explanation, type Session } from "./api";
import { h, put, $ } from "./dom";
import { time, minutes, verdict } from "./format";

const dialog = () => $<HTMLDialogElement>("#explain");

function facts(title: string, rows: [string, unknown][]): HTMLElement {
  const dl = h("dl");
  for (const [k, v] of rows) {
    if (v == null || v === "") continue;
    dl.append(h("dt", null, k), h("dd", null, typeof v === "object" ? (v as Node) : String(v)));
  }
  return h("section", { class: "facts" }, h("h3", null, title), dl);
}

const session = (s: Session): [string, unknown][] => [
  ["Session", s.session_id],
  ["Started (UTC)", time(s.session_start)],
  ["Last activity (UTC)", time(s.last_activity)],
  ["Landing page", s.landing_page],
  ["Referrer", s.referrer_page],
  ["Channel", s.marketing_channel_path],
  ["Source", s.touchpoint_source],
  ["Medium", s.medium],
  ["Campaign", s.campaign],
];

export interface ExplainHooks {
  journey(uid: string): void;
  closed(): void;
  failed(err: unknown): void; // an AuthError sends the page to the token form
}

let opened = 0;

/** open shows the dialog at once and fills it when the answer comes. */
export async function openExplain(taskID: string, hooks: ExplainHooks): Promise<void> {
  const d = dialog();
  const el = $(".body", d);
  const n = ++opened;
  d.dataset.taskId = taskID;
  d.dataset.state = "loading";
  put(el, h("p", { class: "loading" }, "Loading the explanation…"));
  if (!d.open) d.showModal();
  let e: Explanation;
  try {
    e = await explain(taskID);
  } catch (err) {
    if (n !== opened) return;
    d.dataset.state = "error";
    put(el, h("p", { class: "error" }, `Could not explain call ${taskID}: ${(err as Error).message}`));
    hooks.failed(err);
    return;
  }
  if (n !== opened) return;
  const v = verdict(e.verdict);
  const badge = h("span", { class: "badge" }, v.label);
  badge.style.borderColor = badge.style.color = v.color;
  const tp = e.touchpoint;
  put(el,
    h("p", { class: "sentence", "data-field": "sentence" }, e.sentence),
    h("p", null, badge, " ", h("span", { class: "muted" }, `call ${e.task_id}`)),
    v.todo && e.verdict !== "merged" ? h("p", { class: "todo" }, h("strong", null, "What to do: "), v.todo) : null,
    h("div", { class: "facts-grid" },
      facts("Call", [
        ["Time (UTC)", time(e.call.call_time)],
        ["Time taken from", e.call.call_time_from],
        ["Type", e.call.task_type || "(empty: reported as Web Visit)"],
        ["Subject", e.call.subject],
        ["Provider", e.call.source],
        ["Visitor id", e.call.uid ? h("button", { type: "button", class: "link mono", "data-journey": e.call.uid, onclick: () => hooks.journey(e.call.uid) }, e.call.uid) : null],
        ["BizibleId as sent", e.call.bizible_id !== e.call.uid ? e.call.bizible_id || "(none)" : null],
        ["Visitor id found in", e.call.uid_source],
      ]),
      facts("Rule", [
        ["Rule", e.rule.text],
        ["Minutes from session start", e.minutes_from_session_start == null ? null : minutes(e.minutes_from_session_start)],
        ["Minutes from last activity", e.minutes_from_last_activity == null ? null : minutes(e.minutes_from_last_activity)],
      ]),
      e.session ? facts(e.verdict === "merged" ? "Matched session" : "Session considered", session(e.session)) : null,
      e.nearest_session ? facts("Nearest session", session(e.nearest_session)) : null,
      tp
        ? facts("Touchpoint", [
            ["Type", tp.touchpoint_type],
            ["Date (UTC)", time(tp.touchpoint_date)],
            ["Position", tp.touchpoint_position],
            ["Channel", tp.marketing_channel_path],
            ["Source", tp.touchpoint_source],
            ["Medium", tp.medium],
            ["Campaign", tp.ad_campaign_name],
            ["Landing page", tp.landing_page],
          ])
        : facts("Touchpoint", [["", "None: this call gives no touchpoint."]]),
    ),
    e.call.uid ? h("p", null, h("button", { type: "button", onclick: () => hooks.journey(e.call.uid) }, "Open this visitor's journey")) : null,
  );
  d.dataset.state = "ready";
}

/** bindExplain wires the close button and the dialog's close event (Esc included). */
export function bindExplain(hooks: Pick<ExplainHooks, "closed">): void {
  const d = dialog();
  $(".close", d).addEventListener("click", () => d.close());
  d.addEventListener("click", (e) => {
    if (e.target === d) d.close(); // a click on the backdrop
  });
  d.addEventListener("close", () => {
    opened++;
    hooks.closed();
  });
}

export const closeExplain = () => dialog().open && dialog().close();

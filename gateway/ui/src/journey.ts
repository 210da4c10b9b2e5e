// One person's journey (the journey report): sessions, forms, chats, calls
// and touchpoints in time order.

import { report, type Result } from "./api";
import { h, put, body, empty, $ } from "./dom";
import { time } from "./format";

const kinds: Record<string, string> = {
  session: "Session",
  form_submit: "Form",
  chat: "Chat",
  identify: "Identified",
  call: "Call",
  touchpoint: "Touchpoint",
};

export async function loadJourney(person: string, range: { from: string; to: string }, explain: (taskID: string) => void, signal?: AbortSignal): Promise<Result> {
  const el = body("journey");
  $<HTMLInputElement>("#journey-input").value = person;
  put(el, h("p", { class: "loading" }, `Loading the journey of ${person}…`));
  const res = await report("journey", { ...range, person }, signal);
  if (!res.rows.length) {
    put(el, empty(h("p", null, h("strong", null, `Nothing recorded for ${person}.`),
      " Search for a person_id or a visitor id (the _biz_uid cookie: 32 hex characters), or open one from a call's explanation.")));
    return res;
  }
  const uids = new Set(res.rows.map((r) => String(r.uid)));
  const list = h("ol", { class: "timeline", "aria-label": `Journey of ${person}` });
  for (const r of res.rows) {
    const kind = String(r.kind);
    const call = kind === "call" && r.detail;
    list.appendChild(h("li", { "data-kind": kind },
      h("time", null, time(r.at)),
      h("span", { class: `kind k-${kind}` }, kinds[kind] ?? kind),
      h("span", { class: "title" }, String(r.title ?? "")),
      r.touchpoint_position ? h("span", { class: "pos" }, String(r.touchpoint_position)) : null,
      call
        ? h("button", { type: "button", class: "link", onclick: () => explain(String(r.detail)) }, "Why? ", String(r.detail))
        : h("span", { class: "detail" }, String(r.detail ?? "")),
    ));
  }
  put(el, h("p", { class: "muted count" }, `${res.rows.length} events of ${person}` + (uids.size > 1 ? `, across ${uids.size} browsers (uids)` : "") + ", oldest first, times in UTC."), list);
  return res;
}

// The outbox: a bounded event queue in localStorage, so that events survive
// reloads, navigation and offline periods, and are removed only once the
// gateway has answered for them. Each entry is [key, event] where key is
// "site uid sid", the envelope the event must be sent under. When storage is
// unavailable (blocked, full) the queue lives in memory for this page.

export type Ev = { id: string; type: string; ts: number; [k: string]: unknown }
export type Entry = [string, Ev]

const MAX = 100

let mem: Entry[] = []

// store(q) saves the queue; store() loads it (another tab may have changed it).
export const store = (q?: Entry[]): Entry[] => {
  try {
    q ? (localStorage._calltrail_q = JSON.stringify((mem = q))) : (mem = JSON.parse(localStorage._calltrail_q) || mem)
  } catch {}
  return mem
}

// push appends an event. A full queue drops its oldest event, except the
// first page view, which carries the landing page and referrer that decide
// the session's channel.
export const push = (e: Entry) => {
  const q = store()
  if (q[MAX - 1]) q.splice((q[0][1].type == 'page_view') as any, 1) // true: 1
  store([...q, e])
}

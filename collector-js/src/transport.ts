// Sending the outbox to {api}/v1/events. An event leaves the queue only once
// the gateway has answered for it:
// - 2xx, 400 (the valid events were stored), 413 and other 4xx up to 428:
//   done, never resent;
// - 429 and above (5xx), network error: kept, retried after a jittered
//   exponential backoff (1 s doubling to 5 min), or at once when the browser
//   goes online.
// Bodies are JSON sent as text/plain (fetch's default for a string), which
// needs no CORS preflight. When the page is hidden or unloaded the queue goes
// by sendBeacon, whose outcome is unknown: those events stay queued and the
// next page's fetch confirms them (the gateway stores an event id once, so a
// resend is harmless). Where neither can send (no fetch, a fetch that cannot
// connect or is blocked), page views go by the pixel (below).

import { api } from './config'
import { store } from './queue'
import { d, nav, now } from './util'

let timer: ReturnType<typeof setTimeout>
let failures = 0
// Ids handed to the network on this page and not known to have failed: not
// sent again meanwhile.
const out: Record<string, any> = {}

// send posts the queue in batches: events of one envelope key, in queue
// order while the batch's JSON stays under 8,000 characters (the first one
// always goes). So an event of 8,000 characters or more goes alone, and the
// gateway's 413 for it (never retried) takes no other event with it; a batch
// of several is under 24 KB even if every character took 3 bytes of UTF-8,
// far below the gateway's 64 KiB. Bodies of 20,000 characters and more go
// without keepalive: over fetch's 64 KiB keepalive quota the browser would
// refuse them, and they would never reach the gateway to be answered.
//
// The pixel: when fetch is missing, throws or fails to connect (also after a
// refused or missing sendBeacon), the batch counts as failed and is retried
// after the backoff, and its page views go at once by GET /v1/p.gif with
// their envelope, id and times as query parameters. The gateway answers a
// stored one with the GIF: a page view whose image loads leaves the queue.
// Other events wait for a fetch that works.
export const send = (hidden?: unknown) => {
  const q = store().filter(([, e]) => !out[e.id])
  if (q[0]) {
    const [key] = q[0]
    const [site, uid, sid] = key.split(' ')
    const f = failures
    let size = 0
    const events = q
      // (| evaluates both sides: !size is read before size grows.)
      .filter(([k, e]) => k == key && ((!size as any) | ((size += JSON.stringify(e).length) < 8e3 as any)))
      .map((x) => x[1])
    const body = JSON.stringify({ site, uid, sid, sent_at: now(), events })
    const ids = events.map((e) => (out[e.id] = e.id))
    const done = (l = ids) => ((failures = 0), store(store().filter(([, e]) => !l.includes(e.id))))
    // A failed attempt: every batch of one send counts once.
    const fail = () => {
      ids.map((id) => delete out[id])
      later(Math.min(3e5, 1e3 * 2 ** f) * (Math.random() + 0.5))
      failures = f + 1
    }
    const pixel = () => (
      fail(),
      events.map((e) => {
        if (e.type == 'page_view') {
          const i = new Image()
          i.onload = () => done([e.id])
          i.src = api + '/v1/p.gif?' + new URLSearchParams({ site, uid, sid, sent_at: now(), ...e } as any)
        }
      })
    )
    try {
      // Hidden: the beacon; fetch when there is none or it refused the body.
      ;(hidden && nav.sendBeacon?.(api + '/v1/events', body)) ||
        fetch(api + '/v1/events', { method: 'POST', body, keepalive: body.length < 2e4 })
          // 429 (and the rare 431, 451) and 5xx are worth a retry.
          .then((r) => (r.status < 429 ? done() : fail()), pixel)
    } catch {
      pixel()
    }
    send(hidden)
  }
}

const later = (ms: number) => {
  clearTimeout(timer)
  timer = setTimeout(send, ms)
}

// soon is called after each new event: a short debounce gathers the events
// of one moment (page view + identify) into one request. During a backoff the
// event waits for the retry instead.
export const soon = () => failures || later(50)

addEventListener('pagehide', () => send(1))
// (visibilitychange bubbles from document to window.)
addEventListener('visibilitychange', () => d.hidden && send(1))
addEventListener('online', () => send((failures = 0)))

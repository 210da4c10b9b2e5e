// Sending the outbox to {api}/v1/events. An event leaves the queue only once
// the gateway has answered for it:
// - 2xx, 400 (the valid events were stored), 413 and other 4xx up to 428:
//   done, never resent;
// - 429 and above (5xx), network error: kept, retried after a jittered exponential
//   backoff (1 s doubling to 5 min), or at once when the browser goes online.
// Bodies are JSON sent as text/plain (fetch's default for a string), which
// needs no CORS preflight. When the page is hidden or unloaded the queue goes
// by sendBeacon, whose outcome is unknown: those events stay queued and the
// next page's fetch confirms them (the gateway stores an event id once, so a
// resend is harmless).

import { api } from './config'
import { store } from './queue'
import { d, now } from './util'

const url = api + '/v1/events'
const nav = navigator

let timer: ReturnType<typeof setTimeout>
let failures = 0
// Ids handed to the network on this page and not known to have failed: not
// sent again meanwhile.
const out = new Set<string>()

// send posts the queue in batches: events of one envelope key, taken while
// the batch's JSON is under 8,000 characters. Field limits cap an event at
// ~20 KB, so a body stays well under the gateway's 64 KiB even if every
// character took 3 bytes of UTF-8.
export const send = (hidden?: boolean) => {
  const q = store().filter(([, e]) => !out.has(e.id))
  if (q[0]) {
    const [key] = q[0]
    const [site, uid, sid] = key.split(' ')
    let size = 0
    const events = q.filter(([k, e]) => k == key && size < 8e3 && (size += JSON.stringify(e).length)).map((x) => x[1])
    const body = JSON.stringify({ site, uid, sid, sent_at: now(), events })
    const ids = events.map((e) => (out.add(e.id), e.id))
    const done = () => store(store().filter(([, e]) => !ids.includes(e.id)))
    if (hidden) nav.sendBeacon(url, body)
    else
      fetch(url, { method: 'POST', body, keepalive: true })
        .then((r) => {
          // 429 (and the rare 431, 451) and 5xx are worth a retry.
          if (r.status > 428) throw 0
          failures = 0
          done()
        })
        .catch(() => {
          ids.map((id) => out.delete(id))
          later(Math.min(3e5, 1e3 * 2 ** failures++) * (0.5 + Math.random()))
        })
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

addEventListener('pagehide', () => send(true))
d.addEventListener('visibilitychange', () => d.hidden && send(true))
addEventListener('online', () => {
  failures = 0
  send()
})

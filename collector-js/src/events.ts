// Recording events: consent gate, envelope, page views. Nothing is recorded
// (no cookie written, nothing queued) while `on` is false.

import { site } from './config'
import { set } from './cookies'
import { Ev, push, store } from './queue'
import { ids, sid, source, uid, visit } from './session'
import { soon } from './transport'
import { d, loc, now, uuid } from './util'

export let on = false

// rec records an event under the current session (visit, with src as
// there: a page view's or form submit's source, nothing for other events).
export const rec = (e: Partial<Ev>, src?: any) => {
  if (on) {
    push([site + ' ' + uid + ' ' + visit(src), { id: uuid(), ts: now(), url: loc.href, ...e } as Ev])
    soon()
  }
}

let last: string | undefined

// pv records a page view of the current URL, without its #fragment (in-page
// anchors are not page views), unless it is the one last recorded. The
// referrer is document.referrer for the first page view, then (SPA
// navigations, always direct) the previous URL.
export const pv = (_?: unknown) => {
  const url = loc.href.split('#')[0]
  const ref = last ?? d.referrer
  if (url != last && on) {
    rec({ type: 'page_view', url, ref, title: d.title }, last ? '' : source(ref))
    last = url
  }
}

// start begins tracking: at load with consent, or when consent is given.
export const start = () => {
  on = true
  ids()
  pv()
  dispatchEvent(new CustomEvent('calltrail:ready', { detail: { uid, sid } }))
}

// consent is remembered in _biz_consent (1 or 0). Withdrawing it deletes the
// script's cookies and drops unsent events.
export const consent = (yes: boolean) => {
  set('consent', +!!yes, 31536e3) // a year
  if (!yes) (on = false), set('uid', '', 0), set('sid', '', 0), store([])
  else if (!on) start()
}

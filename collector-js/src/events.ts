// Recording events: consent gate, envelope, page views. Nothing is recorded
// (no cookie written, nothing queued) while `on` is false.

import { site } from './config'
import { set } from './cookies'
import { Ev, push, store } from './queue'
import { forget, ids, sid, uid, visit } from './session'
import { soon } from './transport'
import { YEAR, d, loc, now, uuid } from './util'

export let on = false

export const rec = (e: Partial<Ev>) => {
  if (on) {
    push([site + ' ' + uid + ' ' + sid, { id: uuid(), ts: now(), url: loc.href, ...e } as Ev])
    soon()
  }
}

let last: string | undefined

// pv records a page view of the current URL, without its #fragment (in-page
// anchors are not page views), unless it is the one last recorded. The
// referrer is document.referrer for the first page view, then (SPA
// navigations) the previous URL.
export const pv = () => {
  const url = loc.href.split('#')[0]
  const ref = last ?? d.referrer
  if (on && url != last) {
    visit(ref)
    rec({ type: 'page_view', url, ref, title: d.title })
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
  set('_biz_consent', yes ? 1 : 0, YEAR)
  if (!yes) (on = false), forget(), store([])
  else if (!on) start()
}

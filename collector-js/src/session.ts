// The visitor id (_biz_uid) and the session (_biz_sid). Both live
// in cookies, so all tabs and subdomains share them. Rules (../ARCHITECTURE.md):
// - _biz_uid: 32 lowercase hex, one year, renewed each visit; an existing
//   valid one (e.g. set by Marketo Measure's bizible.js) is kept.
// - a session ends 30 minutes after its last page view or form submit;
// - an arrival (a page load) has a source: its external referrer host plus
//   its campaign parameters. A direct or internal arrival (neither) keeps the
//   session; any other starts a new one unless it is the source the session
//   began with. SPA navigations and form submits are always direct.

import { cookieDomain, get, set } from './cookies'
import { hash, hex, loc, uuid } from './util'

export let uid: string | undefined
export let sid: string | undefined

export const ids = () => {
  uid = get('uid')
  if (!/^[\da-f]{32}$/.test(uid!)) uid = uuid().replace(/-/g, '')
  set('uid', uid!, 31536e3) // a year, in seconds
}

// source is the hash of the landing page view's source: its external
// referrer host and the campaign parameters of the current URL; '' for a
// direct arrival. Only a page load is an arrival: SPA navigations and form
// submits are direct, whatever the URL still says.
export const source = (ref: string) => {
  // Campaign parameters, as "k=v" pairs in URL order: utm_* tags and ad click
  // ids (gclid, dclid, msclkid, fbclid, ttclid, twclid, gbraid, wbraid,
  // li_fat_id), in any case, as the gateway reads them.
  const campaign = loc.search.match(/\b(utm_\w+|\w*clk?id|[gw]braid|li_fat_id)=[^&]*/gi)
  let host = ref && new URL(ref).hostname
  // Internal: a host under the cookie domain (or this host, if none).
  if (('.' + host).endsWith('.' + (cookieDomain() || loc.hostname))) host = ''
  return host || campaign ? hash(host + ' ' + campaign) : ''
}

// visit(src) applies the session rules to an event and returns its session
// id, read from the cookie, so that every tab uses the current session. A
// page view or form submit passes its source (see above; '' for direct) and
// renews the session. Other events pass nothing: they join the current
// session without renewing it, or start one (direct) when the last page view
// or form submit is 30 minutes old. The session id is 12 random hex digits
// and the hash of the source the session began with (nothing for a direct
// start), so _biz_sid alone holds the session's state; its max-age, renewed
// here, is the 30-minute inactivity clock.
export const visit = (src?: any) => {
  sid = get('sid')
  // (The hash is a number, the cookie's text: != compares them as numbers.
  // [src] is '' for undefined.)
  if (!sid || (src && src != sid.slice(12))) (sid = hex(6) + [src]), (src = '')
  src == null || set('sid', sid, 1800) // 30 minutes
  return sid
}

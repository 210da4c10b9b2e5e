// The visitor id (_biz_uid) and the session (_biz_sid). Both live
// in cookies, so all tabs and subdomains share them. Rules (docs/collector.md):
// - _biz_uid: 32 lowercase hex, one year, renewed each visit; an existing
//   valid one (e.g. set by Marketo Measure's bizible.js) is kept.
// - a session ends 30 minutes after its last page view or form submit;
// - an arrival's source is its external referrer host plus its campaign
//   parameters. A direct or internal arrival (neither) keeps the session;
//   any other starts a new one unless it is the source the session began with.

import { cookieDomain, del, get, set } from './cookies'
import { HALF_HOUR, YEAR, hash, hex, loc, uuid } from './util'

export let uid: string | undefined
export let sid: string | undefined

// Campaign parameters, as "k=v" pairs in URL order: utm_* tags and ad click
// ids (gclid, dclid, msclkid, fbclid, ttclid, twclid, gbraid, wbraid,
// li_fat_id).
const CAMPAIGN = /\b(utm_[a-z]+|[a-z]*clk?id|[gw]braid|li_fat_id)=[^&]*/g

export const ids = () => {
  uid = get('_biz_uid')
  if (!/^[0-9a-f]{32}$/.test(uid!)) uid = uuid().replace(/-/g, '')
  set('_biz_uid', uid!, YEAR)
}

// visit applies the session rules to a page view of the current URL (or a
// form submit, with an empty referrer) arriving from ref, and renews the
// session. The session id is 12 random hex digits and the hash of the
// source the session began with (nothing for a direct start), so _biz_sid
// alone holds the session's state; its max-age, renewed here, is the
// 30-minute inactivity clock.
export const visit = (ref: string) => {
  const campaign = loc.search.match(CAMPAIGN)
  let host = ref.match(/\/\/([^/:]+)/)?.[1] || ''
  // Internal: a host under the cookie domain (or this host, if none).
  if (('.' + host).endsWith('.' + (cookieDomain() || loc.hostname))) host = ''
  const source = host || campaign ? hash(host + ' ' + campaign) : ''
  sid = get('_biz_sid')
  // (The hash is a number, the cookie's text: != compares them as numbers.)
  if (!sid || (source && source != (sid.slice(12) as any))) sid = hex(6) + source
  set('_biz_sid', sid, HALF_HOUR)
}

// forget deletes the script's identity cookies (consent withdrawn).
export const forget = () => {
  del('_biz_uid')
  del('_biz_sid')
}

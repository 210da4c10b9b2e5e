// The in-page API: window.calltrail, and Marketo Measure's Bizible.Push
// queue so that existing snippets keep working.

import { cfg } from './config'
import { get } from './cookies'
import { consent, rec, start } from './events'
import { form } from './forms'
import { nav, w } from './util'

const identify = (p: { email?: string; leadId?: string }) => rec({ type: 'identify', email: p.email, lead_id: p.leadId })

// Bizible.Push(type, data): commands queued before the script loaded run
// now (below), later ones at once.
const push = (type: string, data: any) =>
  ({ User: (u: any) => identify({ email: u?.eMail }), Form: form, Consent: consent } as any)[type]?.(data)

const c = get('consent')

// Runs when the bundle starts (index.ts imports this module first).
w.calltrail = {
  // From the cookies: undefined before consent and after its withdrawal.
  uid: () => get('uid'),
  sessionId: () => get('sid'),
  track: (type: string, props?: object) => rec(type == 'chat' ? { type, props } : { type: 'custom', name: type, props }),
  identify,
  consent,
}
// Tracking starts at once unless consent is required and not yet given
// (c, the remembered choice): data-consent="required", or
// data-respect-gpc="true" and the browser sends Global Privacy Control. (Any
// value of either attribute counts, so a typo errs on the side of privacy.)
if (c ? +c : !(cfg('consent') || (cfg('respect-gpc') && nav.globalPrivacyControl))) start()
w.Bizible?._queue?.map((x: any) => push(x.type, x.data))
w.Bizible = { Push: push }

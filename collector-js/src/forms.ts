// Form submits, seen in the capture phase on window (before document) so that
// no page handler can hide them, and before the browser reads the form's
// data: the hidden bizible_id / calltrail_uid inputs are filled in time to be
// posted with the form (to the CRM, which then knows the visitor). A submit
// is activity (it renews the session) and always direct.

import { on, rec } from './events'
import { uid } from './session'
import { d } from './util'

// form reports a submit of f: a form element, its id or name, or a jQuery
// object (Bizible.Push('Form', $('#f')) in AJAX form snippets).
export const form = (f: any) => {
  // An id or name (string) or a jQuery object has no .elements; document.forms
  // finds the first, [0] is the jQuery object's form.
  f = f?.elements ? f : d.forms[f] || f?.[0]
  if (on && f?.elements) {
    let email
    for (const i of f.elements) {
      if (/^(bizible_id|calltrail_uid)$/.test(i.name)) i.value = uid
      // The first field of type email, or named like one, holding an address.
      if (!email && /email/i.test(i.type + ' ' + i.name) && /@/.test(i.value)) email = i.value
    }
    // getAttribute: f.id / f.name would return an input named "id" / "name".
    rec({ type: 'form_submit', form: f.getAttribute('id') || f.getAttribute('name'), email }, '')
  }
}

addEventListener('submit', (e) => form(e.target), true)

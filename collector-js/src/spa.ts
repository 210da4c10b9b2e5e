// Single-page apps: history.pushState / replaceState and back/forward
// (popstate) count as page views; pv() ignores a URL that did not change.

import { pv } from './events'

for (const m of ['pushState', 'replaceState'] as const) {
  const orig = history[m]
  history[m] = function (this: History, ...args: any[]) {
    orig.apply(this, args as any)
    pv()
  }
}

addEventListener('popstate', pv)

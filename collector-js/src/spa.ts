// Single-page apps: history.pushState / replaceState and back/forward
// (popstate) count as page views; pv() ignores a URL that did not change.

import { pv } from './events'

for (const m of ['pushState', 'replaceState'] as const) {
  const orig = history[m]
  // (pv ignores its argument: the original call runs first.)
  history[m] = (...args: any[]) => pv(orig.apply(history, args as any))
}

addEventListener('popstate', pv)

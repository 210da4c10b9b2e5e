// Settings from the embedding <script> tag's data-* attributes. Read once,
// while the script runs: document.currentScript is null afterwards.

import { d } from './util'

const script = d.currentScript as HTMLScriptElement

export const cfg = (name: string) => script.getAttribute('data-' + name)

export const site = cfg('site')

// Events endpoint base (no trailing slash): data-api, else the origin the
// script came from.
export const api = cfg('api') || new URL(script.src).origin

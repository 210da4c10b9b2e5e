// Small shared helpers. Everything here is used by several modules, so each
// byte is paid once in the bundle.

export const d = document
export const w = window as any
export const loc = location
export const nav = navigator as any
export const now = Date.now

// n random bytes as 2n lowercase hex digits.
export const hex = (n: number) =>
  crypto.getRandomValues(new Uint8Array(n)).reduce((s, x) => s + (x | 256).toString(16).slice(1), '')

// A random UUID with dashes and the version digit 4 (the variant bits are
// left random, as in Marketo Measure's ids). crypto.randomUUID would be
// shorter but exists only in secure contexts, and marketing sites still
// have http pages.
export const uuid = () => hex(16).replace(/(.{8})(.{4}).(.{3})(.{4})/, '$1-$2-4$3-$4-')

// A short, cookie-safe fingerprint of a string (the 32-bit 31-multiplier
// string hash). Session rules only compare these, so a collision merely
// keeps a session that should have been split, once in ~4 billion arrivals.
export const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 0)

// First-party cookies on the registrable domain (example.com for
// www.example.com), so that every subdomain of a site shares one visitor and
// one session. Never HttpOnly: call-tracking scripts must read _biz_uid.

import { cfg } from './config'
import { d, loc } from './util'

export const get = (name: string): string | undefined => d.cookie.match('(^|; )' + name + '=([^;]*)')?.[2]

const write = (name: string, value: string | number, maxAge: number, domain: string) =>
  (d.cookie =
    name + '=' + value + ';path=/;max-age=' + maxAge + (domain && ';domain=' + domain) +
    ';samesite=lax' + (loc.protocol == 'https:' ? ';secure' : ''))

let domain: string | undefined

// The registrable domain, found the classic way: set a probe cookie on ever
// longer suffixes of the host name; the browser refuses public suffixes
// (co.uk, github.io), so the first one that sticks is the site's own. Hosts
// where none sticks (localhost) get host-only cookies. Computed on first use,
// so that nothing is written before consent.
export const cookieDomain = () => {
  if (domain == null) {
    domain = cfg('cookie-domain') || ''
    const labels = loc.hostname.split('.')
    for (let i = 1, probe; !domain && i++ < labels.length; )
      write('_biz_probe', 1, 9, (probe = labels.slice(-i).join('.'))),
        get('_biz_probe') && write('_biz_probe', '', 0, (domain = probe))
  }
  return domain
}

export const set = (name: string, value: string | number, maxAge: number) =>
  write(name, value, maxAge, cookieDomain())

// Deletes both the domain cookie and a host-only one of the same name (the
// gateway's Set-Cookie, or an older script's, may have made either).
export const del = (name: string) => {
  set(name, '', 0)
  write(name, '', 0, '')
}

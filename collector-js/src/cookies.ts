// First-party cookies on the registrable domain (example.com for
// www.example.com), so that every subdomain of a site shares one visitor and
// one session. Never HttpOnly: call-tracking scripts must read _biz_uid.

import { cfg } from './config'
import { d, loc } from './util'

// Names are given without the prefix all the script's cookies share: get('uid')
// reads _biz_uid.

export const get = (name: string): string | undefined => d.cookie.match('(^|; )_biz_' + name + '=([^;]*)')?.[2]

// (protocol > 'https' holds for 'https:', not for 'http:'.)
const write = (name: string, value: string | number, maxAge: number, domain: string) =>
  (d.cookie =
    '_biz_' + name + '=' + value + ';path=/;max-age=' + maxAge + (domain && ';domain=' + domain) +
    ';samesite=lax' + (loc.protocol > 'https' ? ';secure' : ''))

let domain: string | undefined

// The registrable domain, found the classic way: set a probe cookie on ever
// longer suffixes of the host name; the browser refuses public suffixes
// (co.uk, github.io), so the first one that sticks is the site's own. Hosts
// where none sticks (localhost) get host-only cookies. Computed on first use,
// so that nothing is written before consent.
export const cookieDomain = () => {
  // (The loop's first clause sets domain from data-cookie-domain.)
  if (domain == null)
    for (
      let i = 1, labels = loc.hostname.split('.'), probe = (domain = cfg('cookie-domain') || '');
      !domain && i++ < labels.length;
    )
      write('probe', 1, 9, (probe = labels.slice(-i).join('.'))),
        get('probe') && write('probe', '', 0, (domain = probe))
  return domain
}

// set(name, '', 0) deletes both the domain cookie and a host-only one of the
// same name (the gateway's Set-Cookie, or an older script's, may have made
// either).
export const set = (name: string, value: string | number, maxAge: number) => (
  maxAge || write(name, '', 0, ''), write(name, value, maxAge, cookieDomain())
)

// Which web pages may drive the show. A browser lets any site the performer has open connect a
// WebSocket to 127.0.0.1 or POST to it; the only thing that tells our own page from a foreign one is
// the Origin header the browser adds. So: WebSocket upgrades and state-changing requests from a
// foreign origin are refused; requests without an Origin (TouchDesigner, Chataigne, node scripts:
// not browsers, so not a web page acting behind the performer's back) go through.
import type { IncomingMessage } from 'node:http';

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];
/** Keep memory bounded when a hostile page invents a new origin per request. */
const MAX_NOTICED = 64;

/**
 * An --allow-origin entry as browsers spell an Origin header: `scheme://host[:port]`, lower case,
 * default port dropped. `null` (sandboxed frames, file:// pages in Chromium) and `file://`
 * (Electron's file pages) have no host and are kept as written.
 */
export function normaliseOrigin(value: string): string {
  const v = value.trim();
  if (v === 'null' || v === 'file://') return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error(`"${value}" is not an origin (expected e.g. http://127.0.0.1:3000)`);
  }
  if (url.origin === 'null') throw new Error(`"${value}" is not an origin (expected e.g. http://127.0.0.1:3000)`);
  if (url.pathname !== '/' || url.search || url.hash || url.username) throw new Error(`"${value}" is not an origin: drop the path (expected e.g. ${url.origin})`);
  return url.origin;
}

/** The origins a page served to this Host header can have: itself and, on loopback, its other spellings. */
function ownOrigins(hostHeader: string | undefined, loopbackBind: boolean): string[] {
  if (!hostHeader) return [];
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}`);
  } catch {
    return [];
  }
  // The spelling the request used first: it is what corsOrigin answers to a foreign page.
  if (LOOPBACK.includes(url.hostname)) return [url.origin, ...LOOPBACK.map((h) => `http://${h}${url.port ? `:${url.port}` : ''}`)];
  // On a loopback bind every real Host names loopback. Any other name is a DNS-rebinding page
  // (evil.example resolved to 127.0.0.1), whose Origin would otherwise equal its Host.
  return loopbackBind ? [] : [url.origin];
}

export interface OriginGuardOptions {
  /** Extra origins (--allow-origin), as normaliseOrigin writes them. */
  allow?: readonly string[];
  /** True when the server listens on loopback only (see ownOrigins). */
  loopbackBind: boolean;
  /** Told once per refused origin (a session notice). */
  refused?: (text: string) => void;
}

export interface OriginGuard {
  /** True when this request may act: no Origin, our own page, or a listed origin. */
  allows(req: IncomingMessage): boolean;
  /** Like allows, and tells `refused` (once per origin) what was refused and how to allow it. */
  check(req: IncomingMessage, what: string): boolean;
  /** The access-control-allow-origin value for a response to this request. */
  corsOrigin(req: IncomingMessage): string | undefined;
}

export function originGuard(o: OriginGuardOptions): OriginGuard {
  const allow = new Set((o.allow ?? []).map(normaliseOrigin));
  const noticed = new Set<string>();
  const originOf = (req: IncomingMessage): string | undefined => {
    const h = req.headers.origin;
    if (h === undefined) return undefined;
    try {
      return normaliseOrigin(h);
    } catch {
      return h; // unparseable: compared as written, so it matches nothing listed by mistake
    }
  };
  const allowed = (req: IncomingMessage, origin: string) => allow.has(origin) || ownOrigins(req.headers.host, o.loopbackBind).includes(origin);
  const guard: OriginGuard = {
    allows(req) {
      const origin = originOf(req);
      return origin === undefined || allowed(req, origin);
    },
    check(req, what) {
      if (guard.allows(req)) return true;
      const origin = originOf(req)!;
      if (noticed.size < MAX_NOTICED && !noticed.has(origin)) {
        noticed.add(origin);
        const printable = JSON.stringify(origin.slice(0, 200));
        o.refused?.(
          `refused ${what} from a page of another site (Origin ${printable}): only netbend's own pages may control the show. ` +
            `If you trust it, start netbend serve with --allow-origin ${/^[\x21-\x7e]+$/.test(origin) ? origin : '<origin>'}` +
            (noticed.size === MAX_NOTICED ? ' (further refused origins are not reported)' : ''),
        );
      }
      return false;
    },
    // Our own page needs no CORS (same origin); a listed origin gets its own origin back so it can
    // read the values. Anyone else is answered with our origin, which their browser will not match,
    // so a foreign page cannot read the show's state. Never `*`.
    corsOrigin(req) {
      const origin = originOf(req);
      if (origin !== undefined && allowed(req, origin)) return origin;
      return ownOrigins(req.headers.host, o.loopbackBind)[0];
    },
  };
  return guard;
}

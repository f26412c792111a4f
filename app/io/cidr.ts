// Who may drive the show over UDP: a list of IPv4/IPv6 networks (CIDRs or bare addresses).
// UDP has no handshake, so the sender's address is all there is to go on; IPv4 seen through an
// IPv6 socket (`::ffff:a.b.c.d`) is treated as the IPv4 it is, in the list and in the sender.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** The network, host bits cleared. */
  bits: bigint;
  prefix: number;
}

/** What the UDP edge accepts when nobody says otherwise: this machine only. */
export const LOOPBACK = ['127.0.0.0/8', '::1'] as const;

export class CidrError extends Error {}

function ipv4(s: string): bigint {
  return s.split('.').reduce((n, b) => (n << 8n) | BigInt(Number(b)), 0n);
}

/** Text already validated by isIPv6: groups around one optional `::`, maybe an IPv4 tail. */
function ipv6(s: string): bigint {
  let tail: bigint[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipv4(v4[1]!);
    tail = [n >> 16n, n & 0xffffn];
    s = s.slice(0, v4.index + 1); // '::ffff:1.2.3.4' -> '::ffff:', '::1.2.3.4' -> '::'
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - tail.length - h.length - r.length).fill('0'), ...r];
  return [...groups.map((g) => BigInt(parseInt(g, 16))), ...tail].reduce((n, g) => (n << 16n) | g, 0n);
}

/** An address as (family, bits); IPv4-mapped IPv6 comes back as IPv4. Zone ids (`%eth0`) are ignored. */
function address(s: string): { family: 4 | 6; bits: bigint } | undefined {
  s = s.replace(/%.*$/, '');
  if (isIPv4(s)) return { family: 4, bits: ipv4(s) };
  if (!isIPv6(s)) return undefined;
  const bits = ipv6(s);
  return bits >> 32n === 0xffffn ? { family: 4, bits: bits & 0xffffffffn } : { family: 6, bits };
}

/** `10.0.0.0/8`, `192.168.1.20`, `fe80::/10`, `::1`, `::ffff:10.0.0.0/104`. Throws CidrError. */
export function parseCidr(spec: string): Cidr {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(spec.trim());
  const raw = m?.[1]?.replace(/%.*$/, '') ?? '';
  const v6 = isIPv6(raw);
  if (!m || (!isIPv4(raw) && !v6)) throw new CidrError(`"${spec}" is not an IPv4 or IPv6 address or CIDR`);
  let prefix = m[2] === undefined ? (v6 ? 128 : 32) : Number(m[2]);
  if (prefix > (v6 ? 128 : 32)) throw new CidrError(`"${spec}": prefix /${prefix} is longer than the address`);
  let family: 4 | 6 = v6 ? 6 : 4;
  let bits = v6 ? ipv6(raw) : ipv4(raw);
  // A mapped network wholly inside ::ffff:0:0/96 is an IPv4 network.
  if (v6 && prefix >= 96 && bits >> 32n === 0xffffn) [family, bits, prefix] = [4, bits & 0xffffffffn, prefix - 96];
  const width = family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family, bits: bits & mask, prefix };
}

export function formatCidr(c: Cidr): string {
  if (c.family === 4) return `${[24n, 16n, 8n, 0n].map((s) => (c.bits >> s) & 0xffn).join('.')}/${c.prefix}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((c.bits >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The longest run of zero groups (two or more) becomes `::`.
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = best[0]! < 0 ? groups.join(':') : `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
  return `${text}/${c.prefix}`;
}

/** A parsed allow list; `allows()` answers for one sender address. */
export class AllowList {
  readonly cidrs: readonly Cidr[];

  /** Every spec may itself be a comma-separated list. Throws CidrError on the first bad one. */
  constructor(specs: readonly string[] = LOOPBACK) {
    this.cidrs = specs
      .flatMap((s) => s.split(','))
      .filter((s) => s.trim() !== '')
      .map(parseCidr);
  }

  allows(sender: string): boolean {
    const a = address(sender);
    if (!a) return false;
    return this.cidrs.some((c) => {
      if (c.family !== a.family) return false;
      const shift = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
      return a.bits >> shift === c.bits >> shift;
    });
  }

  toString(): string {
    return this.cidrs.map(formatCidr).join(', ') || 'nobody';
  }
}

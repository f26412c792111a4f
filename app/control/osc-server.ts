// OSC over UDP, at the edge: messages set parameters by address (or OSC 1.0 pattern), bundles apply
// at their timetag, and changed values go out to configured targets once per frame. Garbage is
// counted and dropped; nothing a datagram contains can throw into the show or change a value.
//
// Messages are parsed by osc-js (node:dgram carries them); bundles are walked here because osc-js
// ignores element sizes and rounds timetags to whole seconds, and a 600 ms bundle must land on time.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import oscModule from 'osc-js';
import type { ParameterRegistry, ParamSpec, ParamValue } from './registry.ts';
import { isPattern, oscPattern } from './osc-pattern.ts';

export interface OscTarget {
  host: string;
  port: number;
}

export interface OscOptions {
  host?: string;
  /** UDP port to listen on; 0 = any free port (see `port` after start()). */
  port: number;
  targets?: OscTarget[];
  /** Wekinator-style input: `address` (default /wek/inputs) carries floats that set `inputs` in order. */
  wekinator?: { address?: string; inputs: string[] };
  /** Future bundles allowed to wait at once; more are dropped (a flood must not eat memory). */
  maxScheduled?: number;
}

export interface OscStats {
  /** Datagrams received. */
  received: number;
  /** Parameter sets that took. */
  applied: number;
  /** Datagrams that were not well-formed OSC, or bundles refused (too far ahead, too many waiting). */
  dropped: number;
  /** Messages to addresses (or patterns) that match no parameter. */
  unknown: number;
  /** Messages to a real parameter that it refused: read-only, or a value of the wrong kind. */
  rejected: number;
  /** Future bundles put on a timer. */
  scheduled: number;
  /** Datagrams sent to targets. */
  sent: number;
}

export interface OscPacketMessage {
  address: string;
  types: string;
  args: unknown[];
}
export interface OscPacketBundle {
  /** JavaScript time (ms) the bundle is due; 0 = immediately. */
  due: number;
  elements: OscPacket[];
}
export type OscPacket = OscPacketMessage | OscPacketBundle;

// osc-js is CommonJS: under Node's ESM the default import is module.exports, the OSC class itself.
export const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;

const NTP_EPOCH_OFFSET = 2208988800; // seconds from 1900 (NTP) to 1970 (JavaScript)
const MAX_DEPTH = 8; // nested bundles deeper than this are garbage, not a reason to recurse
const MAX_BUNDLE_BYTES = 8192; // outgoing bundles stay well under any UDP limit
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (~24.8 days)

/** Strictly decodes one datagram; undefined for anything that is not well-formed OSC 1.0. */
export function decodeOsc(bytes: Uint8Array): OscPacket | undefined {
  return decode(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
}

function decode(view: DataView, depth: number): OscPacket | undefined {
  const len = view.byteLength;
  if (len < 4 || len % 4 !== 0 || depth > MAX_DEPTH) return undefined;
  if (isBundleHead(view)) {
    if (len < 16) return undefined;
    const seconds = view.getUint32(8);
    const fractions = view.getUint32(12);
    // Timetag 1 (63 zero bits, then a one) means "immediately"; 0 is read the same way.
    const due = seconds === 0 && fractions <= 1 ? 0 : (seconds - NTP_EPOCH_OFFSET + fractions / 2 ** 32) * 1000;
    const elements: OscPacket[] = [];
    for (let off = 16; off < len; ) {
      if (off + 4 > len) return undefined;
      const size = view.getInt32(off);
      off += 4;
      if (size <= 0 || size % 4 !== 0 || off + size > len) return undefined;
      const el = decode(new DataView(view.buffer, view.byteOffset + off, size), depth + 1);
      if (!el) return undefined; // a bundle is atomic: one bad element drops it whole
      elements.push(el);
      off += size;
    }
    return { due, elements };
  }
  if (view.getUint8(0) !== 0x2f) return undefined; // '/'
  const m = new (OSC.Message as unknown as new () => InstanceType<typeof OSC.Message>)();
  try {
    // osc-js is lenient: it reads past missing terminators and accepts a type string without ','.
    if (m.unpack(view) !== len || !m.types.startsWith(',') || !m.address.startsWith('/')) return undefined;
  } catch {
    return undefined;
  }
  return { address: m.address, types: m.types, args: m.args as unknown[] };
}

function isBundleHead(view: DataView): boolean {
  if (view.byteLength < 8) return false;
  const head = '#bundle\0';
  for (let i = 0; i < 8; i++) if (view.getUint8(i) !== head.charCodeAt(i)) return false;
  return true;
}

/** One parameter value as a typed OSC message: f, i, T/F, s, or I (an impulse) for triggers. */
export function packValue(address: string, spec: ParamSpec | undefined, value: ParamValue): Uint8Array {
  const m = new OSC.Message(address);
  const type = spec?.type ?? (typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'string' : 'float');
  if (type === 'trigger') [m.types, m.args] = ['I', [Infinity]];
  else if (type === 'bool') [m.types, m.args] = [value === true ? 'T' : 'F', [value === true]];
  else if (type === 'int') [m.types, m.args] = ['i', [Math.round(Number(value)) | 0]];
  else if (type === 'enum' || type === 'string') [m.types, m.args] = ['s', [String(value)]];
  else [m.types, m.args] = ['f', [Number(value)]];
  return m.pack();
}

/** Packed messages as one bundle with the "immediately" timetag (receivers' clocks are not ours). */
export function packBundle(messages: Uint8Array[]): Uint8Array {
  const size = 16 + messages.reduce((n, m) => n + 4 + m.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('#bundle\0'), 0);
  view.setUint32(8, 0);
  view.setUint32(12, 1);
  let off = 16;
  for (const m of messages) {
    view.setInt32(off, m.byteLength);
    out.set(m, off + 4);
    off += 4 + m.byteLength;
  }
  return out;
}

const hostKey = (host: string, port: number) => `${host === 'localhost' ? '127.0.0.1' : host.replace(/^::ffff:/, '')}:${port}`;

export class OscServer {
  readonly stats: OscStats = { received: 0, applied: 0, dropped: 0, unknown: 0, rejected: 0, scheduled: 0, sent: 0 };
  targets: OscTarget[];
  private socket: dgram.Socket | undefined;
  /** Latest change per address since the last flush, with who sent it if it came in over OSC. */
  private readonly outgoing = new Map<string, { value: ParamValue; from: string | undefined }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly patterns = new Map<string, RegExp | null>();
  private origin: string | undefined;
  private readonly off: () => void;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly opts: OscOptions,
  ) {
    this.targets = opts.targets ?? [];
    // Every change goes out (outputs and read-only values included), except back to the OSC peer
    // that sent it: no loops with controllers that echo what they receive.
    this.off = params.on('change', (c) => {
      this.outgoing.set(c.address, { value: c.value, from: c.source === 'osc' ? this.origin : undefined });
    });
  }

  async start(): Promise<number> {
    const host = this.opts.host ?? '127.0.0.1';
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((ok, fail) => {
      socket.once('error', (err) => fail(new Error(`OSC: cannot listen on udp://${host}:${this.opts.port} (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
      socket.bind(this.opts.port, host, () => ok());
    });
    socket.removeAllListeners('error');
    socket.on('error', () => {}); // ICMP port unreachable from a gone target, etc.: not fatal
    socket.on('message', (buf, rinfo) => this.receive(buf, rinfo));
    this.socket = socket;
    return socket.address().port;
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  close(): void {
    this.off();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.socket?.close();
    this.socket = undefined;
  }

  /**
   * Sends what changed since the last flush: one message per address (latest wins), batched into
   * bundles, to every target. Call once per frame. Returns the datagrams sent.
   */
  flush(): number {
    if (!this.socket || this.outgoing.size === 0) return 0;
    const changes = [...this.outgoing];
    this.outgoing.clear();
    let sent = 0;
    for (const t of this.targets) {
      const key = hostKey(t.host, t.port);
      const packed = changes.filter(([, c]) => c.from !== key).map(([a, c]) => packValue(a, this.params.spec(a), c.value));
      for (const datagram of batch(packed)) {
        try {
          this.socket.send(datagram, t.port, t.host, () => {}); // async errors: unreachable targets
          sent++;
        } catch {
          // A target with an impossible port throws at once; the frame loop calling us must not.
        }
      }
    }
    this.stats.sent += sent;
    return sent;
  }

  /** One datagram, from the socket or anything else that carries OSC. Never throws. */
  receive(buf: Uint8Array, from?: { address: string; port: number }): void {
    this.stats.received++;
    const packet = decodeOsc(buf);
    if (!packet) return void this.stats.dropped++;
    this.dispatch(packet, from ? hostKey(from.address, from.port) : undefined);
  }

  /**
   * Future bundles wait on a timer rather than a per-frame due() check: they land on time even
   * while the frame loop is paused or slow, with ms precision, and nothing else has to call us;
   * the engine reads the values on its next frame either way. A bundle's messages apply together.
   */
  private dispatch(p: OscPacket, from: string | undefined): void {
    if (!('elements' in p)) return this.message(p, from);
    const delay = p.due - Date.now();
    if (p.due === 0 || delay <= 0) return p.elements.forEach((e) => this.dispatch(e, from));
    if (delay > MAX_TIMER_MS || this.timers.size >= (this.opts.maxScheduled ?? 1024)) return void this.stats.dropped++;
    this.stats.scheduled++;
    this.wait(p, from);
  }

  /** Timers run off the event loop's cached clock and can fire a little early: never apply before `due`. */
  private wait(p: OscPacketBundle, from: string | undefined): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (Date.now() < p.due) return this.wait(p, from);
      p.elements.forEach((e) => this.dispatch(e, from));
    }, Math.max(1, p.due - Date.now()));
    this.timers.add(timer);
  }

  private message(m: OscPacketMessage, from: string | undefined): void {
    const wek = this.opts.wekinator;
    if (wek && m.address === (wek.address ?? '/wek/inputs')) {
      m.args.forEach((a, i) => {
        const address = wek.inputs[i];
        if (address) this.apply(address, [a], from);
      });
      return;
    }
    if (!isPattern(m.address)) return this.apply(m.address, m.args, from);
    const re = this.pattern(m.address);
    if (!re) return void this.stats.dropped++;
    const matches = this.params.list().filter((s) => re.test(s.address));
    if (matches.length === 0) return void this.stats.unknown++;
    for (const s of matches) this.apply(s.address, m.args, from);
  }

  private pattern(p: string): RegExp | null {
    let re = this.patterns.get(p);
    if (re === undefined) {
      try {
        re = oscPattern(p);
      } catch {
        re = null; // malformed pattern (an unclosed [ or {)
      }
      if (this.patterns.size > 256) this.patterns.clear(); // bounded: senders can invent patterns forever
      this.patterns.set(p, re);
    }
    return re;
  }

  private apply(address: string, args: unknown[], from: string | undefined): void {
    const spec = this.params.spec(address);
    if (!spec) return void this.stats.unknown++;
    if (spec.readOnly) return void this.stats.rejected++;
    let value = args[0];
    if (typeof value === 'bigint') value = Number(value); // h / t
    if (spec.type === 'trigger') {
      // No argument, nil or impulse fires; so does a button's press (1), not its release (0).
      if (value === false || value === 0 || value === '') return;
      value = true;
    }
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') return void this.stats.rejected++;
    this.origin = from;
    try {
      this.params.set(address, value, 'osc');
      this.stats.applied++;
    } catch {
      this.stats.rejected++;
    } finally {
      this.origin = undefined;
    }
  }
}

/** Packed messages grouped into as few datagrams as fit; a lone message goes out bare. */
function batch(messages: Uint8Array[]): Uint8Array[] {
  if (messages.length <= 1) return messages;
  const out: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 16;
  for (const m of messages) {
    if (group.length && size + 4 + m.byteLength > MAX_BUNDLE_BYTES) {
      out.push(packBundle(group));
      group = [];
      size = 16;
    }
    group.push(m);
    size += 4 + m.byteLength;
  }
  if (group.length) out.push(packBundle(group));
  return out;
}

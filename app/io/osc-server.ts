// OSC over UDP, at the edge: messages set parameters by address (or OSC 1.0 pattern), bundles apply
// at their timetag, and changed values go out to configured targets once per frame. Garbage is
// counted and dropped; nothing a datagram contains can throw into the show or change a value, or
// hold the event loop: addresses and patterns are bounded, patterns match in linear time, and the
// parameter sets OSC may cause per turn of the loop are capped. UDP senders outside the allow list
// (loopback unless told otherwise) change nothing.
//
// Messages are parsed by osc-decode.ts (a transport carries them, UDP on stage; osc-js packs what goes out, and
// was too slow to take in); bundles are walked here because osc-js ignores element sizes and rounds
// timetags to whole seconds, and a 600 ms bundle must land on time.
import oscModule from 'osc-js';
import type { ParameterRegistry, ParamSpec, ParamValue } from '../core/registry.ts';
import { AddressTree, isPattern, MAX_ADDRESS, PatternCache } from './osc-pattern.ts';
import { PARAM_KINDS } from '../core/param-types.ts';
import { AllowList } from './cidr.ts';
import { decodeMessage } from './osc-decode.ts';
import type { OscTransport } from './osc-transport.ts';
import { MAX_WEK_INPUTS, WEK_INPUTS, wekInput } from '../core/addresses.ts';

export interface OscTarget {
  host: string;
  port: number;
}

export interface OscOptions {
  /** What carries datagrams (a UdpTransport on stage); start() opens it. */
  transport: OscTransport;
  targets?: OscTarget[];
  /** The show's structural moves (actions): messages to their addresses run them, checked and queued. */
  moves?: { has(address: string): boolean; invoke(address: string, args: readonly unknown[], source: 'osc'): Promise<unknown> };
  /** Future bundles allowed to wait at once; more are dropped (a flood must not eat memory). */
  maxScheduled?: number;
  /**
   * UDP senders obeyed: CIDRs or addresses (each may be a comma-separated list); default loopback
   * only. Datagrams handed to receive() by another carrier (the OSCQuery WebSocket, which the
   * HTTP server has already let in) are not filtered.
   */
  allow?: readonly string[];
  /** Parameter sets OSC may cause in one turn of the event loop; more are dropped (see SETS_PER_TURN). */
  maxSetsPerTurn?: number;
  /** Which changed values flush() sends out (default all): the audio features only on request, say. */
  sends?: (address: string) => boolean;
}

export interface OscStats {
  /** Datagrams received. */
  received: number;
  /** Structural moves asked for (a refused one counts in `rejected` too). */
  moves: number;
  /** Parameter sets that took. */
  applied: number;
  /**
   * Datagrams that were not well-formed OSC (an address over MAX_ADDRESS included), bundles refused
   * (too far ahead, too many waiting), malformed or oversized patterns, and work over the per-turn
   * budgets (parameter sets, milliseconds).
   */
  dropped: number;
  /** UDP datagrams from senders outside the allow list (also counted in `received`). */
  refused: number;
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
// A 64 KB bundle of messages to `/*/*/*/*` would ask for a million parameter sets at once, and a
// thousand bundles can be due in the same millisecond. A controller moving every parameter of a
// big model at 100 Hz needs a few hundred sets per turn of the event loop; this is several times that.
const SETS_PER_TURN = 2048;
/**
 * The backstop for costs nobody priced (a 64 KB bundle is thousands of messages; a busy machine is
 * slow at anything): OSC work past this many ms in one turn is dropped, counted, and the rest of
 * the loop (frames, UI, other senders) runs before OSC gets more.
 */
const MS_PER_TURN = 8;

/** Strictly decodes one datagram; undefined for anything that is not well-formed OSC 1.0. */
export function decodeOsc(bytes: Uint8Array, overTime?: () => boolean): OscPacket | undefined {
  return decode(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, overTime);
}

/** `overTime` answering true stops decoding: the datagram is dropped as if malformed. */
function decode(view: DataView, depth: number, overTime?: () => boolean): OscPacket | undefined {
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
      if (size <= 0 || size % 4 !== 0 || off + size > len || overTime?.()) return undefined;
      const el = decode(new DataView(view.buffer, view.byteOffset + off, size), depth + 1, overTime);
      if (!el) return undefined; // a bundle is atomic: one bad element drops it whole
      elements.push(el);
      off += size;
    }
    return { due, elements };
  }
  if (view.getUint8(0) !== 0x2f) return undefined; // '/'
  // Before decoding it: an address (or pattern) longer than any parameter's is not worth the work.
  let end = 0;
  while (end < len && end <= MAX_ADDRESS && view.getUint8(end) !== 0) end++;
  if (end > MAX_ADDRESS) return undefined;
  return decodeMessage(view);
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
  const { types, args } = PARAM_KINDS[type].toOsc(value);
  [m.types, m.args] = [types, args];
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
  readonly stats: OscStats = { received: 0, applied: 0, moves: 0, dropped: 0, refused: 0, unknown: 0, rejected: 0, scheduled: 0, sent: 0 };
  /** The UDP senders obeyed. */
  readonly allow: AllowList;
  targets: OscTarget[];
  private open = false;
  /** Latest change per address since the last flush, with who sent it if it came in over OSC. */
  private readonly outgoing = new Map<string, { value: ParamValue; from: string | undefined }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly patterns = new PatternCache(256);
  /** Every registry address as a tree, for patterns; rebuilt after parameters come or go. */
  private tree: AddressTree | undefined;
  /**
   * This turn of the event loop: parameter sets left, and ms spent on OSC so far; a setImmediate
   * (which runs once the turn's timers and I/O are done) refills it once it has been drawn on.
   */
  private turn: { sets: number; ms: number };
  private refill: NodeJS.Immediate | undefined;
  /** When the OSC work under way began (performance.now()); undefined between pieces of work. */
  private workStart: number | undefined;
  private origin: string | undefined;
  private readonly offs: Array<() => void>;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly opts: OscOptions,
  ) {
    this.targets = opts.targets ?? [];
    this.allow = new AllowList(opts.allow); // throws CidrError on a bad entry: before any socket opens
    this.turn = { sets: opts.maxSetsPerTurn ?? SETS_PER_TURN, ms: 0 };
    // Every change goes out (outputs and read-only values included), except back to the OSC peer
    // that sent it: no loops with controllers that echo what they receive.
    this.offs = [
      params.on('change', (c) => {
        this.outgoing.set(c.address, { value: c.value, from: c.source === 'osc' ? this.origin : undefined });
      }),
      params.on('define', () => (this.tree = undefined)),
      params.on('remove', () => (this.tree = undefined)),
    ];
  }

  /** Opens the transport; resolves with the port it listens on. */
  async start(): Promise<number> {
    await this.opts.transport.open((buf, from) => {
      if (this.allow.allows(from.address)) return this.receive(buf, from);
      this.stats.received++;
      this.stats.refused++;
    });
    this.open = true;
    return this.port;
  }

  get port(): number {
    return this.opts.transport.port;
  }

  /** Where OSC arrives, for the start-up line. */
  get url(): string {
    return this.opts.transport.url;
  }

  close(): void {
    this.offs.forEach((off) => off());
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.refill) clearImmediate(this.refill);
    if (this.open) this.opts.transport.close();
    this.open = false;
  }

  /**
   * Sends what changed since the last flush: one message per address (latest wins), batched into
   * bundles, to every target. Call once per frame. Returns the datagrams sent.
   */
  flush(): number {
    if (!this.open || this.outgoing.size === 0) return 0;
    const sends = this.opts.sends;
    const changes = sends ? [...this.outgoing].filter(([a]) => sends(a)) : [...this.outgoing];
    this.outgoing.clear();
    let sent = 0;
    for (const t of this.targets) {
      const key = hostKey(t.host, t.port);
      const packed = changes.filter(([, c]) => c.from !== key).map(([a, c]) => packValue(a, this.params.spec(a), c.value));
      for (const datagram of batch(packed)) {
        if (this.opts.transport.send(datagram, t.host, t.port)) sent++;
      }
    }
    this.stats.sent += sent;
    return sent;
  }

  /** One datagram, from the socket or anything else that carries OSC. Never throws. */
  receive(buf: Uint8Array, from?: { address: string; port: number }): void {
    this.stats.received++;
    this.work(() => {
      const packet = decodeOsc(buf, this.overTime);
      if (!packet) return void this.stats.dropped++;
      this.dispatch(packet, from ? hostKey(from.address, from.port) : undefined);
    });
  }

  /** Runs one piece of OSC work on this turn's time, or drops it (counted) when the time is spent. */
  private work(fn: () => void): void {
    this.arm();
    if (this.workStart !== undefined) return fn(); // already inside a piece of work, on its clock
    if (this.turn.ms >= MS_PER_TURN) return void this.stats.dropped++;
    this.workStart = performance.now();
    try {
      fn();
    } finally {
      this.turn.ms += performance.now() - this.workStart;
      this.workStart = undefined;
    }
  }

  private readonly overTime = (): boolean => this.workStart !== undefined && this.turn.ms + performance.now() - this.workStart > MS_PER_TURN;

  /** The turn's budget is refilled once the turn is over. */
  private arm(): void {
    this.refill ??= setImmediate(() => {
      this.refill = undefined;
      this.turn = { sets: this.opts.maxSetsPerTurn ?? SETS_PER_TURN, ms: 0 };
    });
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
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (Date.now() < p.due) return this.wait(p, from);
        this.work(() => p.elements.forEach((e) => this.dispatch(e, from)));
      },
      Math.max(1, p.due - Date.now()),
    );
    this.timers.add(timer);
  }

  private message(m: OscPacketMessage, from: string | undefined): void {
    if (this.overTime()) return void this.stats.dropped++; // a long bundle ran out of this turn's time
    if (m.address === WEK_INPUTS) return this.wekInputs(m, from);
    // Structural moves (a model, an edit, undo) by exact address only: no pattern can fire them.
    const moves = this.opts.moves;
    if (moves?.has(m.address)) {
      if (!this.spend(1)) return void this.stats.dropped++;
      this.stats.moves++;
      moves.invoke(m.address, m.args, 'osc').catch(() => void this.stats.rejected++);
      return;
    }
    if (!isPattern(m.address)) return this.spend(1) ? this.apply(m.address, m.args, from) : void this.stats.dropped++;
    const pattern = this.patterns.get(m.address);
    if (!pattern) return void this.stats.dropped++; // malformed (an unclosed [ or {) or over the limits
    if (!this.spend(1)) return void this.stats.dropped++; // matching costs too, even when nothing matches
    this.tree ??= new AddressTree(this.params.list().map((s) => s.address));
    // A move's trigger (undo, an edit's remove) answers its exact address only, never a pattern.
    const matches = this.opts.moves ? this.tree.match(pattern).filter((a) => !this.opts.moves!.has(a)) : this.tree.match(pattern);
    if (matches.length === 0) return void this.stats.unknown++;
    // All of a message's matches or none: half a pattern applied is worse than none.
    if (!this.spend(matches.length - 1)) return void this.stats.dropped++;
    for (const a of matches) this.apply(a, m.args, from);
  }

  /**
   * Wekinator's input message: N numbers set /netbend/wek/inputs/0..N-1, defined the first time a
   * message has that many. A message that is not 1-256 numbers is refused whole and defines
   * nothing; a non-finite number is refused by its parameter (counted, said once) and the others apply.
   */
  private wekInputs(m: OscPacketMessage, from: string | undefined): void {
    const n = m.args.length;
    if (n === 0 || n > MAX_WEK_INPUTS || !m.args.every((a) => typeof a === 'number' || typeof a === 'bigint')) return void this.stats.rejected++;
    if (!this.spend(n)) return void this.stats.dropped++;
    for (let i = 0; i < n; i++) {
      const address = wekInput(i);
      if (!this.params.has(address))
        this.params.define({ address, type: 'float', default: 0, clamp: false, readOnly: true, oscWritable: true, description: `Wekinator input ${i}: number ${i} (from 0) of ${WEK_INPUTS}` });
    }
    m.args.forEach((a, i) => this.apply(wekInput(i), [a], from));
  }

  /**
   * One message of floats to every target now (a playing mapping's /wek/outputs): not a parameter,
   * so it does not wait for flush(). Returns the datagrams sent.
   */
  sendFloats(address: string, values: readonly number[]): number {
    if (!this.open || this.targets.length === 0) return 0;
    const m = new OSC.Message(address);
    [m.types, m.args] = ['f'.repeat(values.length), values.slice()];
    const datagram = m.pack();
    let sent = 0;
    for (const t of this.targets) if (this.opts.transport.send(datagram, t.host, t.port)) sent++;
    this.stats.sent += sent;
    return sent;
  }

  /** Takes n parameter sets from this turn's budget; false (taking nothing) when they are not there. */
  private spend(n: number): boolean {
    if (n > this.turn.sets) return false;
    this.turn.sets -= n;
    this.arm();
    return true;
  }

  private apply(address: string, args: unknown[], from: string | undefined): void {
    const spec = this.params.spec(address);
    if (!spec) return void this.stats.unknown++;
    if (spec.readOnly && !spec.oscWritable) return void this.stats.rejected++;
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

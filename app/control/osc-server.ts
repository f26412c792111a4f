// OSC over UDP, at the edge: messages set parameters by address (or pattern), bundles apply at their
// timetag, and changed values go out to configured targets once per frame. Garbage is counted and
// dropped; nothing a datagram contains can throw into the show.
import dgram from 'node:dgram';
import oscModule from 'osc-js';
import type { ParameterRegistry, ParamChange } from './registry.ts';
import { isPattern, oscPattern } from './osc-pattern.ts';

export interface OscTarget {
  host: string;
  port: number;
}

export interface OscOptions {
  host?: string;
  port: number;
  targets?: OscTarget[];
  /** Wekinator-style inputs: `/wek/inputs f f f ...` sets these addresses in order. */
  wekinatorInputs?: string[];
}

export interface OscStats {
  received: number;
  applied: number;
  dropped: number;
  unknown: number;
  scheduled: number;
}

// osc-js is CommonJS: under Node's ESM the default import is module.exports, the OSC class itself.
const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;

type OscMessage = { address: string; args: unknown[] };
type OscBundle = { timetag: { value: { timestamp(): number; seconds: number; fractions: number } }; bundleElements: Array<OscMessage | OscBundle> };

export class OscServer {
  readonly stats: OscStats = { received: 0, applied: 0, dropped: 0, unknown: 0, scheduled: 0 };
  targets: OscTarget[];
  private socket: dgram.Socket | undefined;
  private readonly outgoing = new Map<string, ParamChange>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly off: () => void;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly opts: OscOptions,
  ) {
    this.targets = opts.targets ?? [];
    // Values that did not come from OSC go out to the targets (no echo of what they sent us).
    this.off = params.on('change', (c) => {
      if (c.source !== 'osc' && this.targets.length) this.outgoing.set(c.address, c);
    });
  }

  async start(): Promise<number> {
    const socket = dgram.createSocket('udp4');
    this.socket = socket;
    socket.on('message', (buf) => this.receive(buf));
    socket.on('error', () => {});
    await new Promise<void>((ok, fail) => {
      socket.once('error', fail);
      socket.bind(this.opts.port, this.opts.host ?? '127.0.0.1', () => ok());
    });
    return socket.address().port;
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  close(): void {
    this.off();
    for (const t of this.timers) clearTimeout(t);
    this.socket?.close();
    this.socket = undefined;
  }

  /** Sends the values changed since the last flush as one bundle per target; call once per frame. */
  flush(): void {
    if (!this.socket || this.outgoing.size === 0) return;
    const bundle = new OSC.Bundle();
    for (const c of this.outgoing.values()) bundle.add(new OSC.Message(c.address, typeof c.value === 'boolean' ? (c.value ? 1 : 0) : c.value));
    this.outgoing.clear();
    const bytes = bundle.pack();
    for (const t of this.targets) this.socket.send(bytes, t.port, t.host);
  }

  receive(buf: Buffer): void {
    this.stats.received++;
    let value: OscMessage | OscBundle;
    try {
      const packet = new OSC.Packet();
      packet.unpack(new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
      value = packet.value as unknown as OscMessage | OscBundle;
      if (!value) throw new Error('empty');
    } catch {
      this.stats.dropped++;
      return;
    }
    this.dispatch(value);
  }

  private dispatch(v: OscMessage | OscBundle): void {
    if ('bundleElements' in v) {
      const tt = v.timetag.value;
      const immediate = tt.seconds === 0 && tt.fractions <= 1;
      const delay = immediate ? 0 : tt.timestamp() - Date.now();
      if (delay > 1) {
        // Future bundles wait for their time; the frame after it reads the values.
        this.stats.scheduled++;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          v.bundleElements.forEach((e) => this.dispatch(e));
        }, Math.min(delay, 2 ** 31 - 1));
        this.timers.add(timer);
        return;
      }
      v.bundleElements.forEach((e) => this.dispatch(e));
      return;
    }
    this.message(v);
  }

  private message(m: OscMessage): void {
    if (typeof m.address !== 'string' || !m.address.startsWith('/')) return void this.stats.dropped++;
    if (m.address === '/wek/inputs' && this.opts.wekinatorInputs) {
      m.args.forEach((a, i) => {
        const address = this.opts.wekinatorInputs![i];
        if (address) this.apply(address, [a]);
      });
      return;
    }
    let addresses: string[];
    try {
      addresses = isPattern(m.address) ? this.params.list().map((s) => s.address).filter((a) => oscPattern(m.address).test(a)) : [m.address];
    } catch {
      return void this.stats.dropped++;
    }
    for (const address of addresses) this.apply(address, m.args);
  }

  private apply(address: string, args: unknown[]): void {
    const spec = this.params.spec(address);
    if (!spec || spec.readOnly) return void this.stats.unknown++;
    const arg = args[0];
    const value = arg === undefined || arg === null ? (spec.type === 'trigger' ? true : undefined) : arg;
    if (value === undefined || (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string')) return void this.stats.dropped++;
    try {
      this.params.set(address, value, 'osc');
      this.stats.applied++;
    } catch {
      this.stats.dropped++;
    }
  }
}

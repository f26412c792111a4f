// What the show tells pages about MIDI, and MIDI learn with a time limit. The ports say what was
// opened (or why nothing could be); a learn waits `learnSeconds` for a control and then gives up
// with a notice, and each learn ends in a state pages can show: learned (with the mapping), timed
// out or cancelled. Where no MIDI input is open a learn is refused at once, saying why, instead of
// waiting for a controller that cannot be heard.
import type { MidiMappingSpec, MidiRouter } from '../control/midi-mapping.ts';
import type { MidiInfo, MidiLearnInfo } from '../core/protocol.ts';
import type { MidiPorts } from '../io/midi-ports.ts';

/** How long a learn waits for a control, unless the show says otherwise. */
export const MIDI_LEARN_SECONDS = 10;

/** The reason given when the show opened no MIDI ports at all. */
export const NO_MIDI_PORTS = 'MIDI is off for this show (no MIDI ports were opened); MIDI mappings still load and OSC works';

export interface MidiDeskOptions {
  router: MidiRouter;
  /** The ports the show opened, once it has (undefined: none asked for). */
  ports: () => MidiPorts | undefined;
  learnSeconds?: number;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
  /** The learn state changed: pages get a new state. */
  announce(): void;
}

export class MidiDesk {
  private learnState: MidiLearnInfo = { state: 'idle', n: 0 };
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  readonly learnSeconds: number;

  constructor(private readonly o: MidiDeskOptions) {
    this.learnSeconds = o.learnSeconds ?? MIDI_LEARN_SECONDS;
    if (!(this.learnSeconds > 0)) throw new Error(`MIDI learn seconds must be > 0 (got ${o.learnSeconds})`);
  }

  /** Inputs opened (named and virtual), or why there are none. */
  status(): Pick<MidiInfo, 'available' | 'reason' | 'inputs' | 'output'> {
    const p = this.o.ports();
    if (!p) return { available: false, reason: NO_MIDI_PORTS, inputs: [], output: null };
    if (!p.available) return { available: false, reason: p.reason ?? 'MIDI unavailable', inputs: [], output: null };
    const inputs = [...p.opened.inputs, ...(p.opened.virtual ? [p.opened.virtual] : [])];
    return { available: true, reason: null, inputs, output: p.opened.output ?? null };
  }

  /**
   * Arms learn for a parameter (the next CC, note or pitch bend maps to it) for learnSeconds, or
   * cancels it (null). Throws a readable error for a parameter that cannot be mapped, or where no
   * MIDI input is open.
   */
  learn(address: string | null): void {
    const router = this.o.router;
    if (address === null) {
      const s = this.learnState;
      router.cancelLearn();
      if (s.state === 'waiting') this.end({ state: 'cancelled', n: s.n, param: s.param });
      return;
    }
    const st = this.status();
    if (!st.inputs.length) throw new Error(`MIDI learn: no MIDI input to listen to: ${st.reason ?? 'no input port is open'}`);
    router.learn(address);
    clearTimeout(this.timer);
    const n = this.learnState.n + 1;
    this.deadline = performance.now() + this.learnSeconds * 1000;
    this.learnState = { state: 'waiting', n, param: address, seconds: this.learnSeconds, left: this.learnSeconds };
    this.timer = setTimeout(() => {
      if (this.learnState.n !== n || this.learnState.state !== 'waiting') return;
      router.cancelLearn();
      this.o.notice('warning', `MIDI learn for ${address}: no control moved in ${this.learnSeconds} s; cancelled`);
      this.end({ state: 'timeout', n, param: address, seconds: this.learnSeconds });
    }, this.learnSeconds * 1000);
    this.timer.unref?.();
    this.o.announce();
  }

  /** The router made a mapping by learn (or made the learned CC 14-bit). */
  learned(m: MidiMappingSpec): void {
    const s = this.learnState;
    if (s.state === 'waiting' || (s.state === 'learned' && s.mapping.id === m.id)) this.end({ state: 'learned', n: s.n, param: m.param, mapping: { ...m } });
  }

  info(mappings: MidiMappingSpec[]): MidiInfo {
    const s = this.learnState;
    const learn = s.state === 'waiting' ? { ...s, left: Math.max(0, Math.round((this.deadline - performance.now()) / 100) / 10) } : s;
    return { ...this.status(), learn, mappings };
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private end(s: MidiLearnInfo): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.learnState = s;
    this.o.announce();
  }
}

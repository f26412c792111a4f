// Ports a test builds a live show from instead of the system's (see app/server/show-ports.ts):
// a clock the test steps frame by frame, an OSC carrier and MIDI ports that loop back in memory.
// Each keeps its port's whole contract; only where the bytes and the time come from differs.
import type { FrameClock, FrameTime } from '../app/engine/clock.ts';
import type { OscTransport } from '../app/io/osc-transport.ts';
import type { MidiPorts } from '../app/io/midi-ports.ts';
import type { OpenMidi } from '../app/server/show-ports.ts';

/** Renders one frame per step(), frame n at n / fps: show time moves only when the test says. */
export class SteppedClock implements FrameClock {
  readonly dropped = 0;
  private index = 0;
  private current = 0;
  private stopped = false;
  private readonly steps: Array<() => void> = [];
  private wake: (() => void) | undefined;

  constructor(public fps: number) {}

  now(): number {
    return this.current;
  }

  /** Renders the next frame; resolves once it has been rendered and handed to every sink. */
  step(): Promise<void> {
    return new Promise((done) => {
      this.steps.push(done);
      this.wake?.();
    });
  }

  async run(tick: (t: FrameTime) => Promise<void>): Promise<void> {
    this.stopped = false;
    for (;;) {
      while (this.steps.length === 0 && !this.stopped) await new Promise<void>((r) => (this.wake = r));
      if (this.stopped) return;
      const done = this.steps.shift()!;
      const time = this.index / this.fps;
      const dt = this.index === 0 ? 0 : time - this.current;
      this.current = time;
      await tick({ index: this.index, time, dt });
      this.index++;
      done();
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    for (const done of this.steps.splice(0)) done();
  }
}

/** OSC in memory: deliver() is a datagram arriving from a sender; what the show sends is kept. */
export class LoopbackOsc implements OscTransport {
  readonly url = 'loopback:osc';
  readonly port = 0;
  readonly sent: Array<{ datagram: Uint8Array; host: string; port: number }> = [];
  private receive: ((datagram: Uint8Array, from: { address: string; port: number }) => void) | undefined;

  async open(receive: (datagram: Uint8Array, from: { address: string; port: number }) => void): Promise<void> {
    this.receive = receive;
  }

  deliver(datagram: Uint8Array, from = { address: '127.0.0.1', port: 57120 }): void {
    this.receive?.(datagram, from);
  }

  send(datagram: Uint8Array, host: string, port: number): boolean {
    this.sent.push({ datagram, host, port });
    return true;
  }

  close(): void {
    this.receive = undefined;
  }
}

/** MIDI in memory: play() is a message arriving on the input; what the show sends back is kept. */
export class LoopbackMidi {
  readonly sent: number[][] = [];
  private receive: ((bytes: number[]) => void) | undefined;

  readonly open: OpenMidi = (receive) => {
    this.receive = receive;
    const ports: MidiPorts = {
      available: true,
      reason: undefined,
      inputs: ['loopback'],
      outputs: ['loopback'],
      opened: { inputs: ['loopback'], virtual: undefined, output: 'loopback' },
      warnings: [],
      send: (bytes) => void this.sent.push(bytes),
      close: () => (this.receive = undefined),
    };
    return ports;
  };

  play(bytes: number[]): void {
    this.receive?.(bytes);
  }
}

// The MIDI edge: easymidi ports, opened by name, plus a virtual input named `netbend` where the OS
// allows. Everything is turned back into raw bytes for MidiRouter. easymidi is loaded lazily and
// every failure (no ALSA sequencer, no native binary) becomes one message, never a crash.
import { createRequire } from 'node:module';

type EasyMidi = typeof import('easymidi');
type Msg = Record<string, number | string>;

export interface MidiPorts {
  available: boolean;
  /** Why MIDI is unavailable, said once. */
  reason: string | undefined;
  inputs: string[];
  outputs: string[];
  close(): void;
  send(bytes: number[]): void;
}

function load(): EasyMidi | Error {
  try {
    return createRequire(import.meta.url)('easymidi') as EasyMidi;
  } catch (err) {
    return err as Error;
  }
}

/** easymidi's parsed messages back to bytes (the router owns all interpretation). */
export function toBytes(type: string, m: Msg): number[] | undefined {
  const ch = Number(m.channel ?? 0) & 0x0f;
  switch (type) {
    case 'noteon':
      return [0x90 | ch, Number(m.note), Number(m.velocity)];
    case 'noteoff':
      return [0x80 | ch, Number(m.note), Number(m.velocity)];
    case 'cc':
      return [0xb0 | ch, Number(m.controller), Number(m.value)];
    case 'program':
      return [0xc0 | ch, Number(m.number)];
    case 'pitch': {
      const v = Number(m.value);
      return [0xe0 | ch, v & 0x7f, (v >> 7) & 0x7f];
    }
    case 'clock':
      return [0xf8];
    case 'start':
      return [0xfa];
    case 'continue':
      return [0xfb];
    case 'stop':
      return [0xfc];
    default:
      return undefined;
  }
}

const TYPES = ['noteon', 'noteoff', 'cc', 'program', 'pitch', 'clock', 'start', 'continue', 'stop'];

export function openMidi(onBytes: (bytes: number[]) => void, opts: { inputs?: string[]; output?: string; virtualName?: string } = {}): MidiPorts {
  const unavailable = (why: string): MidiPorts => ({ available: false, reason: why, inputs: [], outputs: [], close() {}, send() {} });
  const midi = load();
  if (midi instanceof Error) return unavailable(`MIDI unavailable: easymidi could not load (${midi.message.split('\n')[0]}); mappings still load and OSC works`);
  const opened: Array<{ close(): void }> = [];
  try {
    const inputs = midi.getInputs();
    const outputs = midi.getOutputs();
    const listen = (input: import('easymidi').Input) => {
      for (const t of TYPES) (input as unknown as { on(t: string, f: (m: Msg) => void): void }).on(t, (m: Msg) => {
        const b = toBytes(t, m);
        if (b) onBytes(b);
      });
      opened.push(input);
    };
    for (const name of opts.inputs ?? []) {
      if (!inputs.includes(name)) throw new Error(`no MIDI input named "${name}"; inputs: ${inputs.join(', ') || 'none'}`);
      listen(new midi.Input(name));
    }
    if (opts.virtualName) listen(new midi.Input(opts.virtualName, true));
    let out: import('easymidi').Output | undefined;
    if (opts.output) {
      if (!outputs.includes(opts.output)) throw new Error(`no MIDI output named "${opts.output}"; outputs: ${outputs.join(', ') || 'none'}`);
      out = new midi.Output(opts.output);
      opened.push(out);
    }
    return {
      available: true,
      reason: undefined,
      inputs,
      outputs,
      close: () => opened.forEach((p) => p.close()),
      send: (bytes) => (out as unknown as { send(t: string, m: unknown): void; _output?: { sendMessage(b: number[]): void } } | undefined)?._output?.sendMessage(bytes),
    };
  } catch (err) {
    opened.forEach((p) => p.close());
    const msg = (err as Error).message;
    if (/RtMidi|ALSA|seq/i.test(msg)) return unavailable('MIDI unavailable: no ALSA sequencer (/dev/snd/seq); mappings still load and OSC works');
    throw err;
  }
}

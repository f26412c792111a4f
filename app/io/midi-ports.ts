// The MIDI edge: easymidi ports opened by name, plus a virtual input (named `netbend`) where the OS
// allows. Everything arrives as raw bytes for MidiRouter, which owns all interpretation (clock,
// start and stop included: they reach the router's onClock). easymidi is loaded on first use and
// every failure (no ALSA sequencer, no native binary) becomes one message, never a crash.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

type EasyMidi = typeof import('easymidi');
type Msg = Record<string, unknown>;

export const NO_ALSA_SEQ = 'MIDI unavailable: no ALSA sequencer (/dev/snd/seq); MIDI mappings still load and OSC works';

export interface MidiPortList {
  available: boolean;
  /** Why MIDI is unavailable (one clear sentence); undefined when it is available. */
  reason: string | undefined;
  inputs: string[];
  outputs: string[];
}

export interface MidiPorts extends MidiPortList {
  /** What was actually opened: named inputs, the virtual input (if the OS allowed it), the output. */
  opened: { inputs: string[]; virtual: string | undefined; output: string | undefined };
  /** Problems with single ports that did not stop the rest (no virtual ports on Windows). */
  warnings: string[];
  /** One complete MIDI message (feedback); a no-op without an output. */
  send(bytes: number[]): void;
  close(): void;
}

export interface MidiOpenOptions {
  /** Inputs to open, by the names listMidiPorts() gives; an unknown name throws, listing the real ones. */
  inputs?: string[];
  output?: string;
  /** Opens a virtual input other software can send to, e.g. 'netbend'. */
  virtualName?: string;
  /** Told why MIDI is unavailable, at most once per process. */
  report?: (message: string) => void;
}

// Once MIDI proved unavailable it stays so for this process: retrying makes ALSA print its own
// errors to stderr again, and the answer will not change.
let unavailable: string | undefined;
let reported = false;
let loaded: EasyMidi | undefined;

function easymidi(): EasyMidi {
  if (unavailable) throw new Error(unavailable);
  // No sequencer device: say so before RtMidi tries (and writes ALSA's noise to stderr).
  if (process.platform === 'linux' && !existsSync('/dev/snd/seq')) throw new Error((unavailable = NO_ALSA_SEQ));
  try {
    // Loaded here, not at import time, and synchronously because the live session opens ports
    // synchronously: a missing or broken native binary throws into this catch, not at startup.
    loaded ??= createRequire(import.meta.url)('easymidi') as EasyMidi;
    return loaded;
  } catch (err) {
    throw new Error((unavailable = `MIDI unavailable: easymidi could not load (${(err as Error).message.split('\n')[0]}); MIDI mappings still load and OSC works`));
  }
}

/** RtMidi's failure to start (no sequencer, no CoreMIDI server) becomes the one clear message. */
export function explainMidiError(err: unknown): string {
  const msg = (err as Error).message ?? String(err);
  if (msg.startsWith('MIDI unavailable')) return msg;
  if (/RtMidi|ALSA|sequencer/i.test(msg)) return (unavailable = process.platform === 'linux' ? NO_ALSA_SEQ : `MIDI unavailable: ${msg}; MIDI mappings still load and OSC works`);
  return msg;
}

export function listMidiPorts(): MidiPortList {
  try {
    const midi = easymidi();
    return { available: true, reason: undefined, inputs: midi.getInputs(), outputs: midi.getOutputs() };
  } catch (err) {
    return { available: false, reason: explainMidiError(err), inputs: [], outputs: [] };
  }
}

/** easymidi's parsed messages back to bytes (the router owns all interpretation). */
export function toBytes(type: string, m: Msg): number[] | undefined {
  const ch = Number(m.channel ?? 0) & 0x0f;
  const b = (v: unknown) => Number(v) & 0x7f;
  switch (type) {
    case 'noteon':
      return [0x90 | ch, b(m.note), b(m.velocity)];
    case 'noteoff':
      return [0x80 | ch, b(m.note), b(m.velocity)];
    case 'cc':
      return [0xb0 | ch, b(m.controller), b(m.value)];
    case 'program':
      return [0xc0 | ch, b(m.number)];
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
      return undefined; // sysex, aftertouch, MTC: nothing maps to them
  }
}

/** One complete message as easymidi's (type, fields), so sending uses only its public API. */
export function fromBytes(bytes: readonly number[]): [string, Msg] | undefined {
  const [s = 0, d1 = 0, d2 = 0] = bytes;
  const channel = s & 0x0f;
  switch (s & 0xf0) {
    case 0x80:
      return ['noteoff', { channel, note: d1, velocity: d2 }];
    case 0x90:
      return ['noteon', { channel, note: d1, velocity: d2 }];
    case 0xb0:
      return ['cc', { channel, controller: d1, value: d2 }];
    case 0xc0:
      return ['program', { channel, number: d1 }];
    case 0xe0:
      return ['pitch', { channel, value: d1 | (d2 << 7) }];
    default:
      return undefined;
  }
}

/** Opens the asked-for ports and feeds every message as bytes to `onBytes`. Never throws for a missing MIDI system. */
export function openMidi(onBytes: (bytes: number[]) => void, opts: MidiOpenOptions = {}): MidiPorts {
  const opened: MidiPorts['opened'] = { inputs: [], virtual: undefined, output: undefined };
  const closers: Array<{ close(): void }> = [];
  const warnings: string[] = [];
  const close = () => {
    for (const p of closers.splice(0)) {
      try {
        p.close();
      } catch {
        // Closing a port the OS already dropped (device unplugged): nothing left to do.
      }
    }
  };
  const listen = (input: import('easymidi').Input) => {
    closers.push(input);
    (input as unknown as { on(t: 'message', f: (m: Msg) => void): void }).on('message', (m) => {
      const bytes = toBytes(String(m._type), m);
      if (bytes) onBytes(bytes);
    });
  };
  let midi: EasyMidi;
  let inputs: string[];
  let outputs: string[];
  try {
    midi = easymidi();
    inputs = midi.getInputs();
    outputs = midi.getOutputs();
  } catch (err) {
    const reason = explainMidiError(err);
    if (!reported) opts.report?.(reason);
    reported = true;
    return { available: false, reason, inputs: [], outputs: [], opened, warnings, send() {}, close() {} };
  }
  let out: import('easymidi').Output | undefined;
  try {
    for (const name of opts.inputs ?? []) {
      if (!inputs.includes(name)) throw new Error(`no MIDI input named "${name}"; inputs: ${inputs.join(', ') || 'none'}`);
      listen(new midi.Input(name));
      opened.inputs.push(name);
    }
    if (opts.output) {
      if (!outputs.includes(opts.output)) throw new Error(`no MIDI output named "${opts.output}"; outputs: ${outputs.join(', ') || 'none'}`);
      out = new midi.Output(opts.output);
      closers.push(out);
      opened.output = opts.output;
    }
  } catch (err) {
    close();
    throw err;
  }
  if (opts.virtualName) {
    try {
      listen(new midi.Input(opts.virtualName, true));
      opened.virtual = opts.virtualName;
    } catch (err) {
      // Windows has no virtual ports: named ports still work.
      warnings.push(`no virtual MIDI input "${opts.virtualName}" on this system (${(err as Error).message})`);
    }
  }
  return {
    available: true,
    reason: undefined,
    inputs,
    outputs,
    opened,
    warnings,
    close,
    send: (bytes) => {
      const m = out && fromBytes(bytes);
      if (!m) return;
      try {
        (out as unknown as { send(t: string, a: Msg): void }).send(m[0], m[1]);
      } catch {
        // An output unplugged mid-show: feedback is lost, the show goes on.
      }
    },
  };
}

// The edges a live show talks through, handed to LiveSession whole: its clock, the OSC carrier,
// the MIDI ports, the take recorder and the preset store. systemPorts() gives the real ones (the
// wall clock, UDP, easymidi, ffmpeg, a folder); a test builds a show from any others that keep
// the same contracts (an offline clock, a loopback carrier, a PNG recorder, a temp folder).
import { LiveClock, type FrameClock } from '../engine/clock.ts';
import { UdpTransport, type OscTransport } from '../io/osc-transport.ts';
import { openMidi, type MidiPorts } from '../io/midi-ports.ts';
import { ffmpegTakes, type TakeRecorder } from '../record/take-recorder.ts';
import type { RecordFormat } from '../record/video-recorder.ts';
import { PresetFolder, type PresetStore } from '../control/preset-store.ts';

/** Opens the MIDI edge, handing on every message as bytes (MidiRouter owns what they mean). */
export type OpenMidi = (receive: (bytes: number[]) => void) => MidiPorts;

export interface ShowPorts {
  /** Keeps the show's time: frames, tap tempo and MIDI clock are all stamped by it. */
  clock: FrameClock;
  /** Carries OSC; undefined: no OSC (OSCQuery's WebSocket still can). */
  osc: OscTransport | undefined;
  /** undefined: no MIDI ports (mappings still load, and bytes still drive them). */
  midi: OpenMidi | undefined;
  recorder: TakeRecorder;
  presets: PresetStore;
}

export interface SystemPortOptions {
  /** Target frame rate (default 30). */
  fps?: number;
  /** OSC UDP port (0 = any free port); undefined = no OSC. */
  oscPort?: number;
  oscHost?: string;
  /** Folder presets are saved to and listed from (default presets/). */
  presetsDir?: string;
  /** Folder recordings go to (default recordings/). */
  recordDir?: string;
  recordFormat?: RecordFormat;
  /** MIDI ports to open besides the virtual `netbend` input; false: none at all. */
  midi?: false | { inputs?: string[]; output?: string };
}

export function systemPorts(o: SystemPortOptions = {}): ShowPorts {
  const midi = o.midi;
  return {
    clock: new LiveClock(o.fps ?? 30),
    osc: o.oscPort === undefined ? undefined : new UdpTransport(o.oscPort, o.oscHost),
    midi: midi === false ? undefined : (receive) => openMidi(receive, { virtualName: 'netbend', inputs: midi?.inputs, output: midi?.output }),
    recorder: ffmpegTakes({ dir: o.recordDir ?? 'recordings', format: o.recordFormat }),
    presets: new PresetFolder(o.presetsDir ?? 'presets'),
  };
}

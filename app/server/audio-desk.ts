// Live audio as the show takes it: one page at a time captures (its blocks arrive as binary /ws
// messages, see app/core/pcm-frame.ts), each block is placed in show time by a CaptureClock and
// pushed into the AudioInput, and once per frame, before the modulators, the features are set.
// A second page's capture is refused with a sentence unless it asks to take over, which stops the
// first (told so). While nothing captures the features are left alone, so an analyser elsewhere
// may send them over OSC (they are oscWritable); while a page captures, each frame sets them before
// anything reads them, so what OSC sends then never reaches a frame.
//
// A sound file may play as the show's track (serve --track, /netbend/audio/track/load): while no
// capture runs, each frame reads the track's features at the slot's track time (see
// app/audio/show-track.ts), paused and played with the transport, moved by
// /netbend/audio/track/position; /netbend/audio/track/time says where it is (pages play its sound
// in step with it).
//
// Three parameters of its own, beside the analyser's: /netbend/audio/latency (read-only, ms from a
// sound at the page's input to the frame that shows it: the page's own latency, the transport's
// jitter, and how far the frame is ahead of the newest sample), /netbend/audio/send (the features
// go out over OSC only when it is on) and /netbend/audio/capturing (read-only: a page captures).
import type { ParameterRegistry } from '../core/registry.ts';
import type { FrameTime } from '../engine/clock.ts';
import type { Tempo } from '../control/tempo.ts';
import { BPM } from '../core/addresses.ts';
import { AudioInput } from '../audio/live-input.ts';
import { AUDIO_PREFIX, TEMPO_FOLLOW } from '../audio/audio-params.ts';
import { AUDIO_RATE } from '../audio/pcm-source.ts';
import { CaptureClock } from '../audio/capture-clock.ts';
import { decodePcmFrame, pcmFrameCount } from '../core/pcm-frame.ts';
import { ShowTrack } from '../audio/show-track.ts';
import { FfmpegCapture } from '../audio/ffmpeg-capture.ts';
import type { AudioRead } from '../audio/take-audio.ts';
import { decodePcm } from '../audio/pcm-file.ts';
import type { PcmBuffer } from '../audio/pcm-source.ts';
import type { ActionRegistry } from '../scene/actions.ts';
import type { ModelFolders } from '../scene/model-folders.ts';

export const AUDIO_LATENCY = `${AUDIO_PREFIX}latency`;
export const AUDIO_SEND = `${AUDIO_PREFIX}send`;
export const AUDIO_CAPTURING = `${AUDIO_PREFIX}capturing`;
export const TRACK_FILE = `${AUDIO_PREFIX}track/file`;
export const TRACK_TIME = `${AUDIO_PREFIX}track/time`;
export const TRACK_LENGTH = `${AUDIO_PREFIX}track/length`;
export const TRACK_LOAD = `${AUDIO_PREFIX}track/load`;
export const TRACK_POSITION = `${AUDIO_PREFIX}track/position`;
export const TRACK_UNLOAD = `${AUDIO_PREFIX}track/unload`;
/** A capture may send at most this many seconds of sound per second (catching up after a stall); more is dropped. */
const MAX_SPEED = 2;
/** ...and this many seconds at once. */
const BURST_SECONDS = 1;

export interface AudioDeskOptions {
  params: ParameterRegistry;
  tempo: Tempo;
  /** The show clock, in seconds: the capture's time base. */
  now: () => number;
  notice: (level: 'info' | 'warning' | 'error', text: string) => void;
  /** Whether the transport plays (a track loaded while paused waits for play). */
  playing?: () => boolean;
  /** The held moment renders again (a seek while paused shows the new features). */
  invalidate?: () => void;
}

/** Who captures: an opaque page, told when its capture is ended from here. */
export interface CapturePage {
  /** Said to this page only: another page took the capture over. */
  ended(text: string): void;
}

export class AudioDesk {
  input: AudioInput | undefined;
  /** The show's track, when one is loaded. */
  track: ShowTrack | undefined;
  /** What the last frame's analysis read (a take keeps those samples); undefined when nothing drove the features. */
  lastRead: AudioRead | undefined;
  /** While set (a take is starting), each frame keeps where the envelopes stood before it in stateBefore. */
  wantState = false;
  stateBefore: Record<string, number> | undefined;
  private owner: CapturePage | undefined;
  private clock = new CaptureClock();
  private pageMs = 0;
  private jitterMs = 0;
  private latencyMs: number | undefined;
  /** A block of this capture has arrived. */
  private heard = false;
  /** Samples this capture may still send now (refilled at MAX_SPEED x real time). */
  private budget = BURST_SECONDS * AUDIO_RATE;
  private budgetAt = 0;
  /** Blocks taken and dropped (over budget) since the desk opened. */
  readonly stats = { blocks: 0, dropped: 0 };

  constructor(private readonly o: AudioDeskOptions) {}

  get capturing(): boolean {
    return this.owner !== undefined;
  }

  /** Defines the audio parameters (once): on the first capture, or at start for an analyser that sends over OSC. */
  ensure(): AudioInput {
    if (this.input) return this.input;
    const p = this.o.params;
    this.input = new AudioInput(p, { tempo: this.o.tempo, oscWritable: true, onWarning: (t) => this.o.notice('warning', `audio: ${t}`) });
    p.define({
      address: AUDIO_LATENCY,
      type: 'float',
      default: 0,
      min: 0,
      max: 500,
      clamp: false,
      limit: [0, 1e6],
      unit: 'ms',
      readOnly: true,
      description: 'from a sound at the capturing page to the frame that shows it',
    });
    p.define({ address: AUDIO_CAPTURING, type: 'bool', default: false, readOnly: true, description: 'a page is capturing audio into the show' });
    p.define({ address: AUDIO_SEND, type: 'bool', default: false, description: 'the audio features go out to the OSC targets every frame (off: they are left out)' });
    p.define({ address: TRACK_FILE, type: 'string', default: '', readOnly: true, description: "the show's track (empty: none)" });
    p.define({
      address: TRACK_TIME,
      type: 'float',
      default: 0,
      min: 0,
      max: 600,
      clamp: false,
      limit: [0, 1e6],
      unit: 's',
      readOnly: true,
      description: "where the show's track is: the track time of the last frame",
    });
    p.define({ address: TRACK_LENGTH, type: 'float', default: 0, min: 0, max: 600, clamp: false, limit: [0, 1e6], unit: 's', readOnly: true, description: "length of the show's track" });
    return this.input;
  }

  /** Whether a changed value goes out over OSC: the features (read-only, ~30 a frame) only while /netbend/audio/send is on. */
  sends(address: string): boolean {
    if (!address.startsWith(AUDIO_PREFIX) || !this.input) return true;
    return !this.o.params.spec(address)?.readOnly || this.o.params.get(AUDIO_SEND) === true;
  }

  /** The capture on this machine, while there is one to come back to (see resumeMachine). */
  private readonly machine: { spec?: string; capture?: FfmpegCapture; closed: boolean } = { closed: false };
  /** Pages that stopped: blocks still in flight from one must not start its capture again. */
  private readonly stopped = new WeakSet<CapturePage>();

  /** A page starts capturing; throws when another one does, unless it takes over. */
  start(page: CapturePage, takeover = false): void {
    this.stopped.delete(page);
    if (this.owner === page) return;
    const before = this.owner;
    if (before && !takeover) throw new Error('another page is capturing audio: stop it there, or take over');
    this.ensure();
    this.owner = page;
    this.clock = new CaptureClock();
    this.latencyMs = undefined;
    this.heard = false;
    this.budget = BURST_SECONDS * AUDIO_RATE;
    this.budgetAt = this.o.now();
    this.o.params.set(AUDIO_CAPTURING, true, 'engine');
    if (before) {
      before.ended('another page took the audio capture over');
      this.o.notice('info', 'audio capture: taken over by another page');
    } else this.o.notice('info', 'audio capture started');
  }

  /** The page stops (or is gone); the features hold their last values, or the machine's capture comes back. */
  stop(page: CapturePage): void {
    this.stopped.add(page);
    if (this.owner !== page) return;
    this.owner = undefined;
    this.o.params.set(AUDIO_CAPTURING, false, 'engine');
    this.o.notice('info', 'audio capture stopped');
    if (page !== this.machine.capture) this.resumeMachine();
  }

  /**
   * The machine's capture (serve --audio-in) is the house input: after a page that took it over
   * stops, ffmpeg is started again on the same device. Not after it ended by itself (the device
   * went away, said once), and not once the show closes.
   */
  private resumeMachine(): void {
    const spec = this.machine.spec;
    if (!spec || this.machine.closed) return;
    FfmpegCapture.open(spec).then(
      (capture) => {
        if (this.machine.closed || this.owner) return capture.stop();
        this.attach(capture);
        this.o.notice('info', `audio capture: back on ${spec}`);
      },
      (err: Error) => this.o.notice('error', err.message),
    );
  }

  /** Stops the machine's capture for good (the show closes). */
  closeMachine(): void {
    this.machine.closed = true;
    this.machine.capture?.stop();
  }

  /**
   * One binary message from a page: undefined when taken, else why not (`kind: text`, the kind
   * naming the refusal for a page's one-notice-per-kind). A page that is not capturing starts to
   * when no other one is.
   */
  push(page: CapturePage, bytes: Uint8Array): string | undefined {
    if (this.owner && this.owner !== page) return 'audio: another page is capturing (take over from the audio tab)';
    const now = this.o.now();
    this.refill(now);
    // Before decoding: a flood costs a length check per message, no more.
    const n = pcmFrameCount(bytes);
    if (this.owner && n > this.budget) {
      this.stats.dropped++;
      return `audio flood: more than ${MAX_SPEED}x real time; blocks dropped`;
    }
    const f = decodePcmFrame(bytes);
    if (typeof f === 'string') return `bad PCM frame: ${f}`;
    // Only a good block starts a capture, and not one sent before its page's stop arrived.
    if (!this.owner) {
      if (this.stopped.has(page)) return undefined;
      this.start(page);
    }
    this.budget -= n;
    this.place(f.index, f.samples, f.latencyMs, now);
    return undefined;
  }

  /**
   * A capture on this machine (serve --audio-in): it captures from now, as a page would (a page
   * may take it over, which stops it); its blocks take the same way into show time.
   */
  attach(capture: FfmpegCapture): void {
    this.machine.spec = capture.spec;
    this.machine.capture = capture;
    this.start(capture);
    capture.onBlock = (samples, index) => {
      if (this.owner !== capture) return;
      const now = this.o.now();
      this.refill(now);
      if (samples.length > this.budget) return void this.stats.dropped++;
      this.budget -= samples.length;
      this.place(index, samples, capture.blockMs, now);
    };
    capture.onEnd = (text) => {
      this.o.notice('error', text);
      this.machine.spec = undefined;
      this.stop(capture);
    };
  }

  /** The capture's sample budget refills at MAX_SPEED x real time, up to BURST_SECONDS of sound. */
  private refill(now: number): void {
    this.budget = Math.min(BURST_SECONDS * AUDIO_RATE, this.budget + Math.max(0, now - this.budgetAt) * MAX_SPEED * AUDIO_RATE);
    this.budgetAt = now;
  }

  /** A block of the capture, its first sample at `index` of the capture's own count, into the ring at its show time. */
  private place(index: number, samples: Float32Array, latencyMs: number, now: number): void {
    const n = samples.length;
    const nowSample = Math.round(now * AUDIO_RATE);
    let at = this.clock.place(index, n, nowSample);
    let block = samples;
    // A capture that began before show time 0 (the show just started): its first samples fall before the show.
    if (at < 0) {
      block = block.subarray(Math.min(n, -at));
      at = 0;
    }
    if (block.length) this.input!.push(block, at);
    this.heard = true;
    this.pageMs = latencyMs;
    this.jitterMs += ((this.clock.lateness / AUDIO_RATE) * 1000 - this.jitterMs) * 0.1;
    this.stats.blocks++;
  }

  /** Decodes `file` (a path already checked against the track folders) and plays it as the show's track from 0, in place of any other. */
  async loadTrack(file: string, decoded?: PcmBuffer): Promise<ShowTrack> {
    const pcm = decoded ?? (await decodePcm(file));
    const input = this.ensure();
    const track = new ShowTrack(file, pcm, this.o.playing?.() ?? true, input.analyser.current);
    this.track = track;
    const p = this.o.params;
    p.set(TRACK_FILE, file, 'engine');
    p.set(TRACK_LENGTH, Math.round(track.seconds * 1000) / 1000, 'engine');
    p.set(TRACK_TIME, 0, 'engine');
    this.o.invalidate?.();
    this.o.notice('info', `track: ${file} (${track.seconds.toFixed(2)} s)${this.owner ? '; the capture drives the features until it stops' : ''}`);
    return track;
  }

  unloadTrack(): void {
    if (!this.track) return;
    this.track = undefined;
    this.o.params.set(TRACK_FILE, '', 'engine');
    this.o.params.set(TRACK_LENGTH, 0, 'engine');
    this.o.params.set(TRACK_TIME, 0, 'engine');
    this.o.notice('info', 'track unloaded');
  }

  /** The transport played or paused: so does the track. */
  transport(playing: boolean): void {
    const track = this.track;
    if (!track) return;
    if (playing) track.play();
    else {
      track.pause(this.o.now());
      this.o.params.set(TRACK_TIME, track.position(this.o.now()), 'engine');
    }
  }

  /** Moves the track to `seconds` (clamped to its length). */
  seek(seconds: number): number {
    const track = this.track;
    if (!track) throw new Error('no track is loaded: load one with /netbend/audio/track/load');
    track.seek(seconds);
    const at = track.position(this.o.now());
    this.o.params.set(TRACK_TIME, at, 'engine');
    this.o.invalidate?.();
    return at;
  }

  /** Once per frame, before the modulators: the features at the frame's time while something captures, else at the track's. */
  frame(t: FrameTime): void {
    const input = this.input;
    // Not before this capture's first block: the ring's newest sample would be an older capture's.
    this.lastRead = undefined;
    if (!input) return;
    if (this.wantState) this.stateBefore = input.features.shaperState();
    if (!this.owner || !this.heard) return this.trackFrame(input, t);
    const v = input.update(t);
    // The ring holds show time: its samples are heard where they are.
    this.lastRead = { source: input.ring, end: v.end, shift: 0 };
    const p = this.o.params;
    // A readout for people: smoothed over ~10 frames, so one late block does not make it jump.
    const now = this.pageMs + this.jitterMs + input.lag * 1000;
    this.latencyMs = this.latencyMs === undefined ? now : this.latencyMs + (now - this.latencyMs) * 0.1;
    p.set(AUDIO_LATENCY, Math.round(this.latencyMs * 10) / 10, 'engine');
    this.followTempo();
  }

  private trackFrame(input: AudioInput, t: FrameTime): void {
    const track = this.track;
    if (!track) return;
    const time = track.at(t.time);
    // Before the features: a frame's messages say where the track was, then what it sounded like.
    this.o.params.set(TRACK_TIME, time, 'engine');
    input.features.analyser = track.analyser;
    const v = input.features.update({ ...t, time }, t.time);
    this.lastRead = { source: track.pcm, end: v.end, shift: Math.round(track.offset * AUDIO_RATE) };
    this.followTempo();
  }

  private followTempo(): void {
    const p = this.o.params;
    // The tracked beat moved the show's tempo: the parameter pages, OSC and presets read says so too.
    if (p.get(TEMPO_FOLLOW) === true && Math.abs(this.o.tempo.bpm - p.number(BPM)) > 0.01) {
      try {
        p.set(BPM, this.o.tempo.bpm, 'engine');
      } catch {
        /* outside the parameter's range: the tempo follows, the parameter keeps its bound */
      }
    }
  }
}

/**
 * The track's moves: load (a file in the track folders, decoded by ffmpeg), position (seek, in
 * seconds) and unload. Not scene changes: a track is what the show plays to, not part of a preset.
 */
export function defineTrackMoves(actions: ActionRegistry, desk: AudioDesk, folders: ModelFolders): void {
  actions.define({
    address: TRACK_LOAD,
    args: [{ name: 'file', type: 's' }],
    description: "play a sound file from the track folders as the show's track (from 0, with the transport)",
    run: async ([file]) => (await desk.loadTrack(folders.resolve(String(file)))).file,
  });
  actions.define({
    address: TRACK_POSITION,
    args: [{ name: 'seconds', type: 'f' }],
    description: "move the show's track to this many seconds",
    queued: false,
    run: ([seconds]) => desk.seek(Number(seconds)),
  });
  actions.define({ address: TRACK_UNLOAD, args: [], description: "stop and unload the show's track", run: () => desk.unloadTrack() });
}

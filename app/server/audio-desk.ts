// Live audio as the show takes it: one page at a time captures (its blocks arrive as binary /ws
// messages, see app/core/pcm-frame.ts), each block is placed in show time by a CaptureClock and
// pushed into the AudioInput, and once per frame, before the modulators, the features are set.
// A second page's capture is refused with a sentence unless it asks to take over, which stops the
// first (told so). While nothing captures the features are left alone, so an analyser elsewhere
// may send them over OSC (they are oscWritable); while a page captures, each frame sets them before
// anything reads them, so what OSC sends then never reaches a frame.
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

export const AUDIO_LATENCY = `${AUDIO_PREFIX}latency`;
export const AUDIO_SEND = `${AUDIO_PREFIX}send`;
export const AUDIO_CAPTURING = `${AUDIO_PREFIX}capturing`;
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
}

/** Who captures: an opaque page, told when its capture is ended from here. */
export interface CapturePage {
  /** Said to this page only: another page took the capture over. */
  ended(text: string): void;
}

export class AudioDesk {
  input: AudioInput | undefined;
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
    return this.input;
  }

  /** Whether a changed value goes out over OSC: the features (read-only, ~30 a frame) only while /netbend/audio/send is on. */
  sends(address: string): boolean {
    if (!address.startsWith(AUDIO_PREFIX) || !this.input) return true;
    return !this.o.params.spec(address)?.readOnly || this.o.params.get(AUDIO_SEND) === true;
  }

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

  /** The page stops (or is gone); the features hold their last values. */
  stop(page: CapturePage): void {
    this.stopped.add(page);
    if (this.owner !== page) return;
    this.owner = undefined;
    this.o.params.set(AUDIO_CAPTURING, false, 'engine');
    this.o.notice('info', 'audio capture stopped');
  }

  /**
   * One binary message from a page: undefined when taken, else why not (`kind: text`, the kind
   * naming the refusal for a page's one-notice-per-kind). A page that is not capturing starts to
   * when no other one is.
   */
  push(page: CapturePage, bytes: Uint8Array): string | undefined {
    if (this.owner && this.owner !== page) return 'audio: another page is capturing (take over from the audio tab)';
    const now = this.o.now();
    this.budget = Math.min(BURST_SECONDS * AUDIO_RATE, this.budget + Math.max(0, now - this.budgetAt) * MAX_SPEED * AUDIO_RATE);
    this.budgetAt = now;
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
    const nowSample = Math.round(now * AUDIO_RATE);
    let at = this.clock.place(f.index, n, nowSample);
    let block = f.samples;
    // A capture that began before show time 0 (the show just started): its first samples fall before the show.
    if (at < 0) {
      block = block.subarray(Math.min(n, -at));
      at = 0;
    }
    if (block.length) this.input!.push(block, at);
    this.heard = true;
    this.pageMs = f.latencyMs;
    this.jitterMs += ((this.clock.lateness / AUDIO_RATE) * 1000 - this.jitterMs) * 0.1;
    this.stats.blocks++;
    return undefined;
  }

  /** Once per frame, before the modulators: the features at the frame's time, while a page captures. */
  frame(t: FrameTime): void {
    const input = this.input;
    // Not before this capture's first block: the ring's newest sample would be an older capture's.
    if (!input || !this.owner || !this.heard) return;
    input.update(t);
    const p = this.o.params;
    // A readout for people: smoothed over ~10 frames, so one late block does not make it jump.
    const now = this.pageMs + this.jitterMs + input.lag * 1000;
    this.latencyMs = this.latencyMs === undefined ? now : this.latencyMs + (now - this.latencyMs) * 0.1;
    p.set(AUDIO_LATENCY, Math.round(this.latencyMs * 10) / 10, 'engine');
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

// A sound file played as the live show's track: decoded once (app/audio/pcm-file.ts), analysed on
// its own PcmBuffer, and placed in show time by a transport of its own. Playing, the track time of
// a frame's slot is where it was when play (or a seek) took effect plus the show time since the
// first slot after that; paused, it holds. The first slot after a start anchors the track, so a
// track loaded before the show's first frame has track time = slot time, exactly what `render
// --audio` gives frame n: the same file gives the same features live and in a render.
//
//   const track = new ShowTrack(file, await decodePcm(file));
//   loop.beforeFrame = (t) => features.update({ ...t, time: track.at(t.time) });
//   on PLAY: playing ? track.play() : track.pause(clock.now());
import { type AnalyserSettings, AudioAnalyser } from './analyser.ts';
import type { PcmBuffer } from './pcm-source.ts';

export class ShowTrack {
  readonly analyser: AudioAnalyser;
  private playingNow: boolean;
  /** Track seconds while paused, or where the next anchor starts. */
  private held = 0;
  /** Show time of the first slot since play or a seek, and the track time it had. */
  private anchor: { show: number; track: number } | undefined;

  constructor(
    readonly file: string,
    readonly pcm: PcmBuffer,
    playing = true,
    settings: Partial<AnalyserSettings> = {},
  ) {
    this.analyser = new AudioAnalyser(pcm, settings);
    this.playingNow = playing;
  }

  get seconds(): number {
    return this.pcm.seconds;
  }

  get playing(): boolean {
    return this.playingNow;
  }

  /** The track time of the slot at show time `showTime` (a frame's); the first one after play anchors the track. */
  at(showTime: number): number {
    if (!this.playingNow) return this.held;
    if (!this.anchor) this.anchor = { show: showTime, track: this.held };
    return this.clamp(this.anchor.track + showTime - this.anchor.show);
  }

  /** Where the track is at show time `now` (between frames). */
  position(now: number): number {
    return this.playingNow && this.anchor ? this.clamp(this.anchor.track + now - this.anchor.show) : this.held;
  }

  /** Show seconds minus track seconds for the slots playing now (where the track is heard); 0 before the first slot. */
  get offset(): number {
    return this.anchor ? this.anchor.show - this.anchor.track : 0;
  }

  play(): void {
    if (this.playingNow) return;
    this.playingNow = true;
    this.anchor = undefined;
  }

  pause(now: number): void {
    if (!this.playingNow) return;
    this.held = this.position(now);
    this.playingNow = false;
    this.anchor = undefined;
  }

  /** Moves to `seconds` (clamped to the track); the analysis starts afresh there. Playing, the next slot plays from it. */
  seek(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new RangeError(`a track position is a number of seconds, got ${seconds}`);
    this.held = this.clamp(seconds);
    this.anchor = undefined;
    this.analyser.restart(Math.round(this.held * this.pcm.rate));
    // The history before the new place is analysed now: its onsets are not news for the next frame.
    this.analyser.at(this.held);
  }

  private clamp(s: number): number {
    return Math.max(0, Math.min(this.seconds, s));
  }
}

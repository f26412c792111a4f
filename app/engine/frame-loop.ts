// The live show: a clock (the wall clock's LiveClock on stage, any FrameClock in tests) drives the
// engine; each rendered frame goes to every sink (display stream, recorder, OSC outputs).
// Transport and target fps are parameters like any other. Paused is a preview: time holds, and a
// change of the scene renders the held moment once more, so a bend can be tried before it plays.
import { Emitter } from '../core/emitter.ts';
import type { Engine } from './engine.ts';
import type { FrameClock, FrameTime } from './clock.ts';
import type { Frame } from './frame.ts';
import { FPS, PLAY } from '../core/addresses.ts';
import type { LoopStats } from '../core/protocol.ts';

export { FPS, PLAY };

export class FrameLoop extends Emitter<{ frame: Frame; error: Error }> {
  readonly clock: FrameClock;
  private running: Promise<void> | undefined;
  private lastWall = 0;
  /** Smoothed ms between rendered frames: the rate is 1000 over it (an average of 1000/dt would overstate it when late frames catch up). */
  private intervalEma = 0;
  private last: Frame | undefined;
  /** Something the picture depends on changed since the last frame (read while paused). */
  private stale = false;
  private offSwapped: () => void;
  /** [wall ms, clock.dropped] about once a second, for the last minute's drops. */
  private readonly drops: Array<[number, number]> = [];
  /** Called with the frame time before each render (modulators, morphs, animations). */
  beforeFrame: (t: FrameTime & { preview: boolean }) => void = () => {};

  constructor(
    private engine: Engine,
    clock: FrameClock,
  ) {
    super();
    const params = engine.params;
    params.define({ address: PLAY, type: 'bool', default: true, transient: true, description: 'play / pause' });
    params.define({ address: FPS, type: 'float', default: clock.fps, min: 1, max: 240, unit: 'fps', description: 'target frame rate' });
    this.clock = clock;
    params.on('change', (c) => {
      if (c.address === FPS) this.clock.fps = Number(c.value);
      else if (c.address !== PLAY && c.source !== 'engine' && c.source !== 'modulator') this.stale = true;
    });
    // A slot removed (an edit, a bend) may change the picture with no new session to say so.
    params.on('remove', () => (this.stale = true));
    this.offSwapped = this.watch(engine);
  }

  /** A new session, or channel groups that give a selection its channels: the picture may differ. */
  private watch(engine: Engine): () => void {
    const offs = [engine.on('swapped', () => (this.stale = true)), engine.on('grouped', () => (this.stale = true))];
    return () => offs.forEach((off) => off());
  }

  /**
   * The picture may differ though no value a performer moves changed (a mapping's outputs, written
   * as a modulator's are): a paused show renders its held moment again.
   */
  invalidate(): void {
    this.stale = true;
  }

  /** Swaps the engine (a new model) between frames; the caller closes the old one. */
  setEngine(engine: Engine): void {
    this.offSwapped();
    this.engine = engine;
    this.offSwapped = this.watch(engine);
    this.stale = true;
  }

  start(): void {
    if (this.running) return;
    this.running = this.clock.run((t) => this.tick(t));
  }

  async stop(): Promise<void> {
    this.clock.stop();
    await this.running;
    this.running = undefined;
  }

  get lastFrame(): Frame | undefined {
    return this.last;
  }

  stats(): LoopStats {
    const f = this.last;
    return {
      fps: this.intervalEma ? 1000 / this.intervalEma : 0,
      targetFps: this.clock.fps,
      inferMs: f?.stats.inferMs ?? 0,
      frameMs: f?.stats.frameMs ?? 0,
      dropped: this.clock.dropped,
      droppedPerMinute: this.clock.dropped - (this.drops[0]?.[1] ?? 0),
      frame: f?.index ?? 0,
      playing: this.engine.params.get(PLAY) === true,
    };
  }

  private async tick(t: FrameTime): Promise<void> {
    this.countDrops();
    if (this.engine.params.get(PLAY) !== true) {
      const held = this.last;
      if (this.stale && held) {
        // The held moment again, with the change in it: glides land at once (nothing moves in a
        // preview), and the frame is marked so recorders and take logs leave it out.
        this.stale = false;
        return this.render({ index: held.index, time: held.time, dt: Number.POSITIVE_INFINITY }, true);
      }
      // Paused: hold the picture and idle cheaply; time keeps its place in the schedule.
      await new Promise((r) => setTimeout(r, 20));
      return;
    }
    return this.render(t, false);
  }

  private countDrops(): void {
    const now = performance.now();
    const newest = this.drops.at(-1);
    if (!newest || now - newest[0] >= 1000) this.drops.push([now, this.clock.dropped]);
    while (this.drops.length > 1 && now - this.drops[0]![0] > 60_000) this.drops.shift();
  }

  private async render(t: FrameTime, preview: boolean): Promise<void> {
    try {
      this.stale = false;
      this.beforeFrame({ ...t, preview });
      const frame = await this.engine.render(t);
      if (preview) frame.preview = true;
      else {
        const now = performance.now();
        if (this.lastWall) {
          const dt = Math.max(1e-3, now - this.lastWall);
          this.intervalEma = this.intervalEma ? this.intervalEma * 0.9 + dt * 0.1 : dt;
        }
        this.lastWall = now;
      }
      this.last = frame;
      this.emit('frame', frame);
    } catch (err) {
      // The show goes on with the last good picture; the error is reported once per frame at most.
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

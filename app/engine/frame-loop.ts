// The live show: a clock (the wall clock's LiveClock on stage, any FrameClock in tests) drives the
// engine; each rendered frame goes to every sink (display stream, recorder, OSC outputs).
// Transport and target fps are parameters like any other.
import { Emitter } from '../core/emitter.ts';
import type { Engine } from './engine.ts';
import type { FrameClock, FrameTime } from './clock.ts';
import type { Frame } from './frame.ts';
import { FPS, PLAY } from '../core/addresses.ts';

export { FPS, PLAY };

export interface LoopStats {
  fps: number;
  targetFps: number;
  inferMs: number;
  frameMs: number;
  dropped: number;
  frame: number;
  playing: boolean;
}

export class FrameLoop extends Emitter<{ frame: Frame; error: Error }> {
  readonly clock: FrameClock;
  private running: Promise<void> | undefined;
  private lastWall = 0;
  private fpsEma = 0;
  private last: Frame | undefined;
  /** Called with the frame time before each render (modulators, morphs, animations). */
  beforeFrame: (t: FrameTime) => void = () => {};

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
    });
  }

  /** Swaps the engine (a new model) between frames; the caller closes the old one. */
  setEngine(engine: Engine): void {
    this.engine = engine;
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
      fps: this.fpsEma,
      targetFps: this.clock.fps,
      inferMs: f?.stats.inferMs ?? 0,
      frameMs: f?.stats.frameMs ?? 0,
      dropped: this.clock.dropped,
      frame: f?.index ?? 0,
      playing: this.engine.params.get(PLAY) === true,
    };
  }

  private async tick(t: FrameTime): Promise<void> {
    if (this.engine.params.get(PLAY) !== true) {
      // Paused: hold the picture and idle cheaply; time keeps its place in the schedule.
      await new Promise((r) => setTimeout(r, 20));
      return;
    }
    try {
      this.beforeFrame(t);
      const frame = await this.engine.render(t);
      const now = performance.now();
      if (this.lastWall) {
        const inst = 1000 / Math.max(1e-3, now - this.lastWall);
        this.fpsEma = this.fpsEma ? this.fpsEma * 0.9 + inst * 0.1 : inst;
      }
      this.lastWall = now;
      this.last = frame;
      this.emit('frame', frame);
    } catch (err) {
      // The show goes on with the last good picture; the error is reported once per frame at most.
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

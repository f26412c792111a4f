// Logs a take while the show records: the scene at the first recorded frame, then, for every
// rendered frame, the value changes made since the frame before (from any edge, modulators and
// morphs included, so an exact re-render replays the very values the show used) and the
// structure the frame renders with, whenever that changes (a new session swapped in, an edit
// removed, a partner unloaded). frame() is called once per frame, just before it renders.
import type { ParameterRegistry, ParamChange } from '../core/registry.ts';
import { isTransient } from '../core/param-types.ts';
import type { Preset } from '../control/preset.ts';
import type { FrameTime } from '../engine/clock.ts';
import type { EngineStructure } from '../engine/engine.ts';
import type { ValueRange } from '../engine/inference/protocol.ts';
import { TAKE_VERSION, type Take, type TakeEntry, type TakeStructure } from './take.ts';

export interface TakeLogSource {
  params: ParameterRegistry;
  fps: number;
  width: number;
  height: number;
  /** The scene now, as a preset holds it (modulators included). */
  scene(): Preset;
  /** What the next frame renders with. */
  structure(): EngineStructure;
  /** The image range the engine uses now (its detected one when the parameter says auto). */
  range(): ValueRange | undefined;
  tempo(): { bpm: number; origin: number };
  /**
   * The keyframe lists and the direction set now, each the same object until it changes (compared
   * by identity every frame, so a take sees a kept keyframe or a loaded set at the frame it lands).
   */
  latent?(): TakeLatent;
  /** The show's source choices (per input, a source kind), kept so a re-render feeds each input as the show did across model switches. */
  sources?: Record<string, string>;
}

/** What the keyframe loops and W space play: lists, held latents (absent in older callers) and the direction set. */
interface TakeLatent {
  keyframes: Preset['keyframes'];
  held?: Preset['held'];
  directions: Preset['directions'];
}

type Pending = [address: string, value: ParamChange['value'], source: string, glide: number | null];

export class TakeLog {
  private start: Take['start'] | undefined;
  private readonly frames: Take['frames'] = [];
  private readonly log: TakeEntry[] = [];
  private pending: Pending[] = [];
  private lastStructure = '';
  private lastLatent: TakeLatent | undefined;
  private readonly off: () => void;

  constructor(private readonly src: TakeLogSource) {
    this.off = src.params.on('change', (c) => {
      const spec = src.params.spec(c.address);
      // Read-only values (model outputs, stats) come from the frame itself; actions are not state.
      if (!spec || spec.readOnly || isTransient(spec)) return;
      this.pending.push([c.address, c.value, c.source, c.glide ?? null]);
    });
  }

  /** The frame about to render: logs what changed since the last one, and the frame. */
  frame(t: FrameTime): void {
    const playing = this.src.structure();
    // Amounts are values (logged as such); the structure is which slots play.
    const key = JSON.stringify(playing);
    const structure = this.withAmounts(playing);
    if (!this.start) {
      // Everything before this frame is in the snapshot.
      const scene = this.src.scene();
      const params = this.src.params;
      const current: Record<string, ParamChange['value']> = {};
      for (const s of params.list()) if (!s.readOnly && params.get(s.address) !== params.target(s.address)) current[s.address] = params.get(s.address);
      const range = this.src.range();
      if (range && scene.params['/netbend/output/range'] === 'auto') scene.params['/netbend/output/range'] = range;
      this.start = { scene, current, structure, tempo: this.src.tempo(), ...(this.src.sources ? { sources: this.src.sources } : {}) };
    } else {
      for (const [address, value, source, glide] of this.pending) this.log.push([t.index, 'v', address, value, source, glide]);
      if (key !== this.lastStructure) this.log.push([t.index, 's', structure]);
    }
    const latent = this.src.latent?.();
    if (latent && this.lastLatent) {
      if (latent.keyframes !== this.lastLatent.keyframes) this.log.push([t.index, 'k', latent.keyframes]);
      if (latent.held && latent.held !== this.lastLatent.held) this.log.push([t.index, 'h', latent.held]);
      if (latent.directions !== this.lastLatent.directions) this.log.push([t.index, 'd', latent.directions]);
    }
    this.lastLatent = latent;
    this.pending = [];
    this.lastStructure = key;
    this.frames.push([t.index, t.time, t.dt]);
  }

  /** Frames logged so far. */
  get length(): number {
    return this.frames.length;
  }

  /** The take so far; undefined before the first frame. */
  take(video?: string): Take | undefined {
    if (!this.start) return undefined;
    return {
      netbend: 'take',
      version: TAKE_VERSION,
      fps: this.src.fps,
      width: this.src.width,
      height: this.src.height,
      ...(video ? { video } : {}),
      start: this.start,
      frames: this.frames,
      log: this.log,
    };
  }

  close(): void {
    this.off();
  }

  /** The structure with each edit's amount now: an edit that comes into play starts there. */
  private withAmounts(s: EngineStructure): TakeStructure {
    const amount = (name: string) => Number(this.src.params.has(`/netbend/edit/${name}/amount`) ? this.src.params.target(`/netbend/edit/${name}/amount`) : 0);
    const params = this.src.params;
    const values = (name: string) => {
      const root = `/netbend/bend/${name}/`;
      // Its moves (remove, move) live under the same root as actions: not values.
      return Object.fromEntries(params.list().flatMap((p) => (p.address.startsWith(root) && !isTransient(p) ? [[p.address.slice(root.length), params.target(p.address)]] : [])));
    };
    return { ...s, edits: s.edits.map((e) => ({ ...e, amount: amount(e.name) })), bends: s.bends.map((b) => ({ ...b, values: values(b.name) })) };
  }
}

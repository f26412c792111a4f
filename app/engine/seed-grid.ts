// A seed grid: N x N pictures of seeds (cell i plays seed `seed + i`, the latent the walk and the
// keyframe loop make for it), or of latents around the current one (current + spread * the N(0,1)
// vector of seed `seed + i`), rendered off the frame path on a runner of its own with the weights
// untouched. Cells go one at a time and the grid rests between them (`duty`: the share of the time
// it renders), so the live loop keeps its frame rate. A picked cell can be jumped or glided to, or
// kept as a keyframe, on an input fed by a keyframe loop (a walk or strip takes a seed cell's seed).
// On a model with W space every cell plays through the W settings of the moment (truncation, style
// mixing, direction amounts), so a picked cell looks as it will play.
import { PNG } from 'pngjs';
import { gaussianArray } from '../core/seeded-random.ts';
import type { ParameterRegistry } from '../core/registry.ts';
import type { Engine, SideModel } from './engine.ts';
import { ModelRunner } from './inference/model-runner.ts';
import type { TensorMsg } from './inference/protocol.ts';
import type { Keyframe, KeyframeLoop } from './sources/keyframe-loop.ts';
import type { GaussianWalk } from './sources/gaussian-walk.ts';
import { LATENT_MIN } from './sources/bind.ts';
import { SimplexStrip, type SimplexStripParams } from './sources/simplex-strip.ts';

export interface GridRequest {
  /** Cells per side (1..8); the grid has n * n cells. */
  n: number;
  /** 'seeds': cell i is seed `seed + i`; 'around': the current latent plus `spread` times seed `seed + i`'s vector. */
  mode: 'seeds' | 'around';
  /** First seed (default 0). */
  seed?: number;
  /** How far around the current latent (default 0.5); 0 gives n * n copies of it. */
  spread?: number;
  /**
   * Show time (seconds) a strip input's seed cells are taken at (default 0): a strip moves, so its
   * picture at a seed is the strip with that seed at a moment.
   */
  time?: number;
}

export interface GridCell {
  index: number;
  /** The seed whose picture this is ('seeds' mode). */
  seed: number | undefined;
  latent: Float32Array;
  width: number;
  height: number;
  /** RGBA8, width * height * 4. */
  rgba: Uint8Array;
}

export interface SeedGridOptions {
  /** The input the grid varies (default the first latent-sized vector input). */
  input?: string;
  /** Share of the time the grid renders, 0..1 (default 0.3): after a cell of d ms it rests d * (1 - duty) / duty ms. */
  duty?: number;
  /** How the grid rests between cells (injected: tests and offline renders pass their own). */
  rest?: (ms: number) => Promise<void>;
}

const realRest = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SeedGrid {
  readonly input: string;
  private readonly side: SideModel;
  private readonly engine: Engine;
  private readonly params: ParameterRegistry;
  private readonly root: string;
  private readonly duty: number;
  private readonly rest: (ms: number) => Promise<void>;
  private runner: Promise<ModelRunner> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(engine: Engine, opts: SeedGridOptions = {}) {
    this.side = engine.side();
    this.engine = engine;
    this.params = engine.params;
    const latent = opts.input ?? this.side.inputs.find((i) => i.buffer.length >= LATENT_MIN && i.dims.filter((d) => d > 1).length === 1)?.input;
    if (!latent || !this.side.inputs.some((i) => i.input === latent)) throw new Error(`seed grid: no latent input${opts.input ? ` "${opts.input}"` : ''} in this model`);
    this.input = latent;
    this.root = `${engine.ns}/source/${latent}`;
    this.duty = Math.min(1, Math.max(0.05, opts.duty ?? 0.3));
    this.rest = opts.rest ?? realRest;
  }

  /** The latent input's source as fed now. */
  private bound() {
    return this.side.inputs.find((i) => i.input === this.input)!;
  }

  /** The latents of a request's cells, in order (row by row). */
  latents(req: GridRequest): Array<{ seed: number | undefined; latent: Float32Array }> {
    const n = Math.trunc(req.n);
    if (!(n >= 1 && n <= 8)) throw new Error(`seed grid: n must be 1..8, not ${req.n}`);
    const base = Math.trunc(req.seed ?? 0) | 0;
    const len = this.bound().buffer.length;
    const current = this.bound().buffer.slice();
    const spread = req.spread ?? 0.5;
    if (!Number.isFinite(spread)) throw new Error(`seed grid: spread must be a number, not ${req.spread}`);
    return Array.from({ length: n * n }, (_, i) => {
      const seed = (base + i) | 0;
      if (req.mode === 'seeds') return { seed, latent: this.seedLatent(seed, req.time ?? 0) };
      const g = gaussianArray(len, seed);
      const latent = new Float32Array(len);
      for (let j = 0; j < len; j++) latent[j] = current[j]! + spread * g[j]!;
      return { seed: undefined, latent };
    });
  }

  /** What the latent input plays at `seed`: a strip's row at `time`, else the seed's N(0,1) vector (the walk's, the keyframe loop's). */
  private seedLatent(seed: number, time: number): Float32Array {
    const b = this.bound();
    if (b.source.kind !== 'strip') return gaussianArray(b.buffer.length, seed);
    const strip = new SimplexStrip(b.dims, { ...(b.source.params as unknown as SimplexStripParams), seed });
    const out = new Float32Array(b.buffer.length);
    strip.fill(out, { time, frame: 0 });
    return out;
  }

  /**
   * Renders a request's cells one after another (a second request waits for the first), handing
   * each to `onCell` as it comes; resolves with them all.
   */
  render(req: GridRequest, onCell?: (cell: GridCell) => void): Promise<GridCell[]> {
    const cells = this.latents(req);
    const run = this.queue.then(() => this.renderCells(cells, req.time ?? 0, onCell));
    this.queue = run.catch(() => {});
    return run;
  }

  private async renderCells(cells: Array<{ seed: number | undefined; latent: Float32Array }>, time: number, onCell?: (cell: GridCell) => void): Promise<GridCell[]> {
    const runner = await this.open(cells[0]!.latent);
    // W space as it plays now (w_avg estimated first when it is off identity), the same for every cell.
    if (this.engine.latent.active()) await this.engine.estimateLatent();
    const latent = this.engine.latentFrame({ index: 0, time, dt: 0 });
    const out: GridCell[] = [];
    const image = this.side.image;
    for (let i = 0; i < cells.length; i++) {
      if (this.closed) throw new Error('seed grid closed');
      const t0 = performance.now();
      const reply = await runner.run({ kind: 'run', feeds: this.feeds(cells[i]!.latent), fetch: [], range: this.side.range, amounts: undefined, lead: 0, latent });
      if (!reply.rgba || !image) throw new Error('seed grid: this model has no image output');
      const cell: GridCell = { index: i, seed: cells[i]!.seed, latent: cells[i]!.latent, width: image.width, height: image.height, rgba: reply.rgba };
      out.push(cell);
      onCell?.(cell);
      await this.rest(((performance.now() - t0) * (1 - this.duty)) / this.duty);
    }
    return out;
  }

  private feeds(latent: Float32Array): Record<string, TensorMsg> {
    return Object.fromEntries(this.side.inputs.map((i) => [i.input, { data: i.input === this.input ? latent : i.buffer.slice(), dims: i.dims }]));
  }

  /** The grid's own session (the untouched weights; the latent graph on a model with W space), made on first use. */
  private open(first: Float32Array): Promise<ModelRunner> {
    this.runner ??= (async () => {
      const runner = ModelRunner.spawn();
      const shape = this.engine.latent.shape;
      try {
        const graphs = await this.side.host.build(this.side.image, [], undefined, shape !== undefined);
        await runner.load({ kind: 'load', ...graphs, ep: this.side.ep, image: this.side.image, bend: undefined, weightDims: {}, warmup: this.feeds(first), threads: 1, latent: shape });
        return runner;
      } catch (err) {
        await runner.close();
        throw err;
      }
    })();
    return this.runner;
  }

  /**
   * Plays a cell: a keyframe loop input holds it (gliding there over `glide` seconds, 0 = a jump)
   * and drops its keyframes; a walk or strip input takes a seed cell's seed.
   */
  jump(cell: Pick<GridCell, 'seed' | 'latent'>, glide = 0): void {
    const source = this.bound().source;
    if (source.kind === 'keyframes') {
      const loop = source as unknown as KeyframeLoop;
      this.params.set(`${this.root}/glide`, glide, 'api');
      loop.params.keyframes = [];
      loop.params.hold = cell.seed === undefined ? cell.latent.slice() : undefined;
      if (cell.seed !== undefined) this.params.set(`${this.root}/seed`, cell.seed, 'api');
      return;
    }
    if (cell.seed === undefined)
      throw new Error(
        `seed grid: input ${this.input} plays a ${source.kind} source, which takes seeds only; feed it a keyframe loop (--source ${this.input}=keyframes) to jump around the current latent`,
      );
    if (source.kind === 'walk') (source as unknown as GaussianWalk).params.seeds = [0];
    this.params.set(`${this.root}/seed`, cell.seed, 'api');
  }

  /** Keeps a cell as the next keyframe of the input's keyframe loop; returns the keyframe count. */
  keep(cell: Pick<GridCell, 'seed' | 'latent'>): number {
    const source = this.bound().source;
    if (source.kind !== 'keyframes') throw new Error(`seed grid: input ${this.input} plays a ${source.kind} source; keyframes need a keyframe loop (--source ${this.input}=keyframes)`);
    const loop = source as unknown as KeyframeLoop;
    const key: Keyframe = cell.seed === undefined ? { latent: cell.latent.slice() } : { seed: cell.seed };
    loop.params.keyframes = [...loop.params.keyframes, key];
    return loop.params.keyframes.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const runner = await this.runner?.catch(() => undefined);
    await runner?.close();
  }
}

/** A cell as a page gets it: a PNG at the model's size (the page scales it), its seed if any. */
export interface GridCellPng {
  index: number;
  seed: number | undefined;
  width: number;
  height: number;
  /** base64 PNG */
  png: string;
}

export type GridPick = 'jump' | 'glide' | 'keep';

/**
 * The show's seed grid: one SeedGrid for the engine playing now (a new model gets a new one) and
 * the cells last rendered, which a page picks by index.
 */
export class SeedGridDesk {
  private grid: SeedGrid | undefined;
  private engine: Engine | undefined;
  private cells: GridCell[] = [];

  constructor(
    private readonly current: () => Engine,
    /** Show time now (a strip's seed cells are taken then). */
    private readonly now: () => number = () => 0,
  ) {}

  private open(): SeedGrid {
    const engine = this.current();
    if (this.grid && this.engine === engine) return this.grid;
    void this.grid?.close().catch(() => {});
    this.cells = [];
    this.engine = engine;
    this.grid = new SeedGrid(engine);
    return this.grid;
  }

  async render(req: GridRequest): Promise<GridCellPng[]> {
    const grid = this.open();
    // Each cell is encoded as it arrives, between the grid's rests, not all at once at the end:
    // 16 encodes in a row would hold the show's main thread for a frame or more.
    const pngs: GridCellPng[] = [];
    const cells = await grid.render({ time: this.now(), ...req }, (c) => pngs.push({ index: c.index, seed: c.seed, width: c.width, height: c.height, png: cellPng(c) }));
    if (this.grid === grid) this.cells = cells;
    return pngs;
  }

  /** Jumps to, glides to (over `glide` seconds, default 2) or keeps the last grid's cell `index`; keep returns the keyframe count. */
  pick(index: number, action: GridPick, glide = 2): number | null {
    const grid = this.open();
    const cell = this.cells[index];
    if (!cell) throw new Error(`seed grid: no cell ${index} (${this.cells.length ? `the grid has ${this.cells.length}` : 'render a grid first'})`);
    if (action === 'keep') return grid.keep(cell);
    grid.jump(cell, action === 'glide' ? glide : 0);
    return null;
  }

  close(): Promise<void> {
    return this.grid?.close() ?? Promise.resolve();
  }
}

function cellPng(c: GridCell): string {
  const png = new PNG({ width: c.width, height: c.height });
  png.data.set(c.rgba.subarray(0, c.width * c.height * 4));
  return PNG.sync.write(png, { deflateLevel: 1 }).toString('base64');
}

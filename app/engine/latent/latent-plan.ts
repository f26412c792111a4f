// W space on the engine side: its parameters, the w_avg and principal directions estimated from
// sampled z (the mapping network alone, run in a runner's worker; PCA in its own worker), and each
// frame's LatentFrame. Everything at identity (truncation 1, mix from num_ws, every direction at
// 0) sends no frame at all, so the plain session plays: exactly the model.
//
//   <ns>/latent/truncation                 psi, 1 = off; 0 = every seed at w_avg
//   <ns>/latent/mix/seed, <ns>/latent/mix/from   the second latent's seed, and the first layer it
//                                          takes over (num_ws = no mixing)
//   <ns>/latent/direction/<k>/amount       along principal direction k, in its standard deviations
//   <ns>/latent/direction/<k>/from, /to    the layers [from, to) it moves
import { gaussianArray } from '../../core/seeded-random.ts';
import type { ParameterRegistry } from '../../core/registry.ts';
import type { ModelHost } from '../inference/model-host.ts';
import { ModelRunner } from '../inference/model-runner.ts';
import type { EpChoice, TensorMsg } from '../inference/protocol.ts';
import { WorkerRpc } from '../inference/worker-rpc.ts';
import type { Directions } from './directions.ts';
import { directionSet, setDirections, type DirectionSet } from './direction-set.ts';
import type { DirectionsRequest } from './directions-worker.ts';
import type { LatentFrame, LatentShape } from './latent-feeds.ts';
import type { WFinding } from './w-split.ts';

export interface LatentPlanOptions {
  /** z sampled for w_avg and the directions; default 512. */
  samples?: number;
  /** Principal directions offered; default 8. */
  directions?: number;
  /** Seed of the first sampled z (sample i from seed + i); default 0x5eed. */
  seed?: number;
}

export class LatentPlan {
  readonly shape: LatentShape | undefined;
  /** Why W space is off on this model (undefined when it is on). */
  readonly note: string | undefined;
  /** Set once W space first leaves identity: sessions from then on carry the latent graph. */
  wanted = false;
  /** Resolves when w_avg and the directions are estimated (or failed: see `error`). */
  ready: Promise<void> = Promise.resolve();
  error: string | undefined;
  /** Whether the estimate was started (it runs once per model). */
  started = false;
  private wavg: Float32Array | undefined;
  /** The directions played: a loaded set's, else the estimated ones. */
  private directions: Directions | undefined;
  /** The principal directions the estimate found (kept when a set is loaded, for going back). */
  private computed: Directions | undefined;
  /** The direction set loaded, with the name it came under; the estimate then leaves the directions alone. */
  private loaded: { name: string; set: DirectionSet } | undefined;
  private readonly k: number;
  /** The ws tensor the mapping hands on. */
  private readonly tensor: string = '';
  private offsetKey = '';
  private offset = new Float32Array(0);

  constructor(
    private readonly params: ParameterRegistry,
    private readonly ns: string,
    finding: WFinding,
    private readonly opts: LatentPlanOptions = {},
  ) {
    this.k = opts.directions ?? 8;
    if (!('split' in finding)) {
      this.note = finding.note;
      // A model played before this one on the same registry may have left W parameters.
      // (Its values only: the show's direction-set moves live under <ns>/latent/directions/.)
      params.remove(`${ns}/latent/truncation`);
      params.removeUnder(`${ns}/latent/mix/`);
      params.removeUnder(`${ns}/latent/direction/`);
      return;
    }
    const { numWs, wDim, inputs } = finding.split;
    this.tensor = finding.split.tensor;
    this.shape = { numWs, wDim, inputs };
    this.offset = new Float32Array(numWs * wDim);
    const a = `${ns}/latent`;
    // The previous model's layer count, when it had W space: its "off" and "to the end" become ours.
    const before = params.spec(`${a}/mix/from`)?.max;
    const was = (address: string) => (before !== undefined && before !== numWs && params.has(address) ? params.number(address) : undefined);
    const fromWas = was(`${a}/mix/from`);
    const toWas = Array.from({ length: this.k }, (_, k) => was(`${a}/direction/${k}/to`));
    params.define({
      address: `${a}/truncation`,
      type: 'float',
      default: 1,
      min: 0,
      max: 1,
      clamp: false,
      limit: [-2, 3],
      description: 'truncation psi toward w_avg (1 = off, 0 = w_avg for every seed)',
    });
    params.define({ address: `${a}/mix/seed`, type: 'int', default: 1, min: 0, max: 9999, clamp: false, limit: [0, 2 ** 31 - 1], description: 'seed of the style-mixing latent' });
    params.define({ address: `${a}/mix/from`, type: 'int', default: numWs, min: 0, max: numWs, clamp: true, description: `first layer taken from the mix latent (${numWs} = no mixing)` });
    for (let k = 0; k < this.k; k++) {
      const d = `${a}/direction/${k}`;
      params.define({
        address: `${d}/amount`,
        type: 'float',
        default: 0,
        min: -5,
        max: 5,
        clamp: false,
        limit: [-100, 100],
        description: `amount along principal direction ${k} of w (in standard deviations)`,
      });
      params.define({ address: `${d}/from`, type: 'int', default: 0, min: 0, max: numWs, clamp: true, description: `first layer direction ${k} moves` });
      params.define({ address: `${d}/to`, type: 'int', default: numWs, min: 0, max: numWs, clamp: true, description: `layer after the last one direction ${k} moves` });
      if (toWas[k] !== undefined && toWas[k] === before) params.set(`${d}/to`, numWs, 'engine');
    }
    if (fromWas !== undefined && fromWas >= before!) params.set(`${a}/mix/from`, numWs, 'engine');
  }

  /** Principal directions offered (parameters exist for 0..count-1). */
  get count(): number {
    return this.shape ? this.k : 0;
  }

  get mixSeed(): number {
    return this.params.number(`${this.ns}/latent/mix/seed`);
  }

  /** Estimates w_avg and the directions off the frame path (the mapping network in a worker). */
  prepare(host: ModelHost, ep: EpChoice, inputDims: Record<string, number[]>): Promise<void> {
    if (!this.shape || this.started) return this.ready;
    this.started = true;
    const shape = this.shape;
    const run = async () => {
      // The PCA worker boots (a second or so) while the mapping network samples w.
      const pca = new WorkerRpc<DirectionsRequest>(new URL('./directions-worker.ts', import.meta.url));
      try {
        await sample(pca);
      } finally {
        await pca.terminate();
      }
    };
    const sample = async (pca: WorkerRpc<DirectionsRequest>) => {
      const { numWs, wDim } = shape;
      const count = this.opts.samples ?? 512;
      const seed = this.opts.seed ?? 0x5eed;
      const graph = await host.mapping();
      const runner = ModelRunner.spawn();
      const sum = new Float64Array(numWs * wDim);
      const first = new Float32Array(count * wDim);
      try {
        const feeds = (i: number): Record<string, TensorMsg> =>
          Object.fromEntries(
            shape.inputs.map((name, j) => [
              name,
              {
                data: gaussianArray(
                  inputDims[name]!.reduce((p, q) => p * q, 1),
                  (seed + i + j * 0x10000) >>> 0,
                ),
                dims: inputDims[name]!,
              },
            ]),
          );
        await runner.load({ kind: 'load', plain: graph, live: undefined, ep, image: undefined, bend: undefined, weightDims: {}, warmup: {} });
        const ws = this.tensor;
        for (let i = 0; i < count; i++) {
          const reply = await runner.run({ kind: 'run', feeds: feeds(i), fetch: [ws], range: undefined, amounts: undefined, lead: 0 });
          const w = reply.tensors[ws]!.data;
          for (let j = 0; j < w.length; j++) sum[j]! += w[j]!;
          // Directions from layer 0's w (StyleGAN's mapping broadcasts one w to every layer).
          first.set(w.subarray(0, wDim), i * wDim);
        }
      } finally {
        await runner.close();
      }
      this.wavg = Float32Array.from(sum, (s) => s / count);
      const found = await pca.call<Directions>({ kind: 'pca', samples: first, count, dim: wDim, k: this.k }, [first.buffer as ArrayBuffer]);
      this.computed = found;
      if (!this.loaded) this.directions = found;
    };
    this.ready = run().catch((err: Error) => {
      this.error = `W space: estimating w_avg and directions failed: ${err.message}`;
    });
    return this.ready;
  }

  /** The principal directions once estimated (unit vectors and their standard deviations). */
  get principal(): Directions | undefined {
    return this.directions;
  }

  /** The directions now played, with their layer ranges, as a file holds them (undefined until found or loaded). */
  saveSet(): DirectionSet | undefined {
    if (!this.shape || !this.directions) return undefined;
    const a = `${this.ns}/latent/direction`;
    const ranges = this.directions.sigmas.map((_, k): [number, number] => (k < this.k ? [this.params.number(`${a}/${k}/from`), this.params.number(`${a}/${k}/to`)] : [0, this.shape!.numWs]));
    return directionSet(this.directions, this.shape.numWs, ranges);
  }

  /** Why `set` cannot play on this model (another w shape, too many directions), or undefined. */
  refuses(set: DirectionSet): string | undefined {
    if (!this.shape) return `cannot load directions: ${this.note}`;
    if (set.wDim !== this.shape.wDim || set.numWs !== this.shape.numWs) return `direction set is for w of ${set.numWs} x ${set.wDim}, this model's is ${this.shape.numWs} x ${this.shape.wDim}`;
    if (set.directions.length > this.k) return `direction set has ${set.directions.length} directions, this engine plays ${this.k}`;
    return undefined;
  }

  /** The set loaded and its name (undefined while the estimated directions play). */
  get loadedSet(): { name: string; set: DirectionSet } | undefined {
    return this.loaded;
  }

  /** Back to the estimated directions (once estimated; until then none play). */
  unloadSet(): void {
    if (!this.loaded) return;
    this.loaded = undefined;
    this.directions = this.computed;
    this.offsetKey = '\u0000';
  }

  /** Plays `set`'s directions and layer ranges from now on; a set for another w shape is refused. */
  loadSet(set: DirectionSet, name = 'set'): void {
    const refused = this.refuses(set);
    if (refused) throw new Error(refused);
    this.directions = setDirections(set);
    this.loaded = { name, set };
    this.offsetKey = '\u0000';
    const a = `${this.ns}/latent/direction`;
    set.directions.forEach((d, k) => {
      this.params.set(`${a}/${k}/from`, d.from, 'preset');
      this.params.set(`${a}/${k}/to`, d.to, 'preset');
    });
  }

  /** Whether any W parameter is off identity. */
  active(): boolean {
    if (!this.shape) return false;
    const a = `${this.ns}/latent`;
    if (this.params.number(`${a}/truncation`) !== 1) return true;
    if (this.params.number(`${a}/mix/from`) < this.shape.numWs) return true;
    for (let k = 0; k < this.k; k++) if (this.params.number(`${a}/direction/${k}/amount`) !== 0) return true;
    return false;
  }

  /**
   * This frame's W space, or undefined at identity (or while w_avg is not estimated yet: then the
   * frame plays unshaped). `mixInputs` gives the mix seed's inputs for this frame.
   */
  frame(mixInputs: (seed: number) => Record<string, TensorMsg>): LatentFrame | undefined {
    if (!this.shape || !this.wavg || !this.active()) return undefined;
    const { numWs } = this.shape;
    const a = `${this.ns}/latent`;
    const from = this.params.number(`${a}/mix/from`);
    const mask = new Float32Array(numWs);
    for (let i = Math.max(0, from); i < numWs; i++) mask[i] = 1;
    return { psi: this.params.number(`${a}/truncation`), wavg: this.wavg, mask, offset: this.offsets(), ...(from < numWs ? { z2: mixInputs(this.mixSeed) } : {}) };
  }

  /** Sum of amount * sigma * direction over each direction's layers; recomputed only on change. */
  private offsets(): Float32Array {
    const { numWs, wDim } = this.shape!;
    const d = this.directions;
    const a = `${this.ns}/latent/direction`;
    const moves: Array<[number, number, number, number]> = [];
    if (d)
      for (let k = 0; k < Math.min(this.k, d.sigmas.length); k++) {
        const amount = this.params.number(`${a}/${k}/amount`);
        if (amount !== 0) moves.push([k, amount, this.params.number(`${a}/${k}/from`), this.params.number(`${a}/${k}/to`)]);
      }
    const key = moves.join(';');
    if (key === this.offsetKey) return this.offset;
    this.offsetKey = key;
    const out = new Float32Array(numWs * wDim);
    for (const [k, amount, from, to] of moves) {
      const s = amount * d!.sigmas[k]!;
      for (let l = Math.max(0, from); l < Math.min(numWs, to); l++) for (let j = 0; j < wDim; j++) out[l * wDim + j]! += s * d!.vectors[k * wDim + j]!;
    }
    this.offset = out;
    return out;
  }
}

// Host-side weight bending: W = A + t(B - A), then the edits in order. Originals (A, B) are never
// written, so removing an edit or `restore` gives back A bit for bit. Only weights whose recipe
// changed since the last frame are recomputed, into buffers allocated once per weight.
import { gaussianArray } from '../seeded-random.ts';

export type EditOp = 'scale' | 'offset' | 'set' | 'noise' | 'ablate';
export const EDIT_OPS: readonly EditOp[] = ['scale', 'offset', 'set', 'noise', 'ablate'];

export interface WeightEdit {
  op: EditOp;
  amount: number;
  seed: number;
  /** ablate: explicit output channels; otherwise `amount` is the share of channels zeroed. */
  channels?: number[];
}

/** What one weight should be this frame: a blend amount (0 = A) and edits in order. */
export interface WeightRecipe {
  blend: number;
  edits: WeightEdit[];
}

export interface WeightTensor {
  data: Float32Array;
  dims: number[];
}

export class WeightBender {
  private readonly out = new Map<string, Float32Array>();
  private readonly applied = new Map<string, string>();
  private readonly noise = new Map<string, Float32Array>();
  private readonly stds = new Map<string, number>();

  constructor(
    private readonly base: ReadonlyMap<string, WeightTensor>,
    private partner: ReadonlyMap<string, WeightTensor> | undefined = undefined,
  ) {}

  setPartner(partner: ReadonlyMap<string, WeightTensor> | undefined): void {
    this.partner = partner;
    this.applied.clear();
  }

  /** The buffer fed for `name`; recomputed only when its recipe differs from the last one. */
  weight(name: string, recipe: WeightRecipe): Float32Array {
    const a = this.base.get(name);
    if (!a) throw new Error(`no weight ${name}`);
    const key = JSON.stringify(recipe);
    let out = this.out.get(name);
    if (out && this.applied.get(name) === key) return out;
    if (!out) this.out.set(name, (out = new Float32Array(a.data.length)));
    const b = this.partner?.get(name);
    const t = recipe.blend;
    if (t !== 0 && b) {
      const ad = a.data;
      const bd = b.data;
      for (let i = 0; i < ad.length; i++) out[i] = ad[i]! + t * (bd[i]! - ad[i]!);
    } else {
      out.set(a.data);
    }
    for (const e of recipe.edits) this.apply(name, a, out, e);
    this.applied.set(name, key);
    return out;
  }

  private apply(name: string, a: WeightTensor, out: Float32Array, e: WeightEdit): void {
    const n = out.length;
    switch (e.op) {
      case 'scale':
        for (let i = 0; i < n; i++) out[i]! *= e.amount;
        return;
      case 'offset':
        for (let i = 0; i < n; i++) out[i]! += e.amount;
        return;
      case 'set':
        out.fill(e.amount);
        return;
      case 'noise': {
        // Relative to the weight's own spread, so one amount means the same on every layer.
        const noise = this.noiseFor(name, e.seed, n);
        const k = e.amount * this.stdOf(name, a.data);
        for (let i = 0; i < n; i++) out[i]! += k * noise[i]!;
        return;
      }
      case 'ablate': {
        const channels = a.dims[0] ?? 1;
        const per = n / channels;
        for (const c of ablatedChannels(channels, e)) out.fill(0, c * per, (c + 1) * per);
        return;
      }
    }
  }

  private noiseFor(name: string, seed: number, n: number): Float32Array {
    const key = `${name}#${seed}`;
    let v = this.noise.get(key);
    if (!v) this.noise.set(key, (v = gaussianArray(n, seed)));
    return v;
  }

  private stdOf(name: string, d: Float32Array): number {
    let s = this.stds.get(name);
    if (s === undefined) {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < d.length; i++) {
        sum += d[i]!;
        sq += d[i]! * d[i]!;
      }
      const mean = sum / d.length;
      s = Math.sqrt(Math.max(0, sq / d.length - mean * mean)) || 1;
      this.stds.set(name, s);
    }
    return s;
  }
}

/** Output channels an ablate edit zeroes: the listed ones, or a seeded share of all of them. */
export function ablatedChannels(channels: number, e: WeightEdit): number[] {
  if (e.channels) return e.channels.filter((c) => Number.isInteger(c) && c >= 0 && c < channels);
  const share = Math.min(1, Math.max(0, e.amount));
  const count = Math.round(share * channels);
  const order = Array.from({ length: channels }, (_, i) => i);
  const r = gaussianArray(channels, e.seed); // a seeded shuffle key per channel
  order.sort((x, y) => r[x]! - r[y]!);
  return order.slice(0, count);
}

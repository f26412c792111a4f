// Small vectors [1,K] (regression nets): each entry is a parameter the performer or a controller
// sets, named p0 ... pK-1 unless a list of names says otherwise. The values live in one
// Float32Array; `params` exposes the same storage by name (p0 = values[0] ...), so whatever writes
// params by key (the engine's registry sync) and whatever writes `values` by index see one state.
import type { InputSource, SourceFrameTime } from './source.ts';

export type VectorParams = Record<string, number>;

/** Characters an OSC address segment cannot hold; names become /netbend/.../<name>. */
const BAD_NAME = /[\s#*,/?[\]{}]/;

export class VectorSource implements InputSource<VectorParams> {
  readonly kind = 'params';
  readonly shape: readonly number[];
  /** The K values fed every frame, default 0; settable by index. */
  readonly values: Float32Array;
  /** One name per value: p0 ... pK-1, or the names given (missing ones stay pI). */
  readonly names: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly view: VectorParams;

  constructor(shape: readonly number[], names?: readonly string[]) {
    this.shape = Object.freeze(shape.slice());
    const k = shape.reduce((a, b) => a * b, 1);
    if (names && names.length > k) throw new Error(`vector input [${shape.join(', ')}] has ${k} values but ${names.length} names were given`);
    const all = Array.from({ length: k }, (_, i) => names?.[i] ?? `p${i}`);
    const index = new Map<string, number>();
    all.forEach((name, i) => {
      if (!name || BAD_NAME.test(name)) throw new Error(`vector parameter name "${name}" (entry ${i}) must be non-empty, without spaces or any of # * , / ? [ ] { }`);
      if (index.has(name)) throw new Error(`vector parameter name "${name}" is used twice (entries ${index.get(name)} and ${i})`);
      index.set(name, i);
    });
    this.names = Object.freeze(all);
    this.index = index;
    this.values = new Float32Array(k);
    // `params` by name reads and writes `values`: accessors, so no copy and no per-frame work.
    const view: VectorParams = {};
    const values = this.values;
    all.forEach((name, i) => {
      Object.defineProperty(view, name, {
        enumerable: true,
        get: () => values[i]!,
        set: (v: number) => {
          values[i] = Number(v);
        },
      });
    });
    this.view = Object.seal(view);
  }

  /** The values by name (p0 ...): reading and writing goes straight to `values`. */
  get params(): VectorParams {
    return this.view;
  }

  /** Assigning an object sets the values it names (others keep theirs); unknown names throw. */
  set params(p: VectorParams) {
    for (const [name, v] of Object.entries(p)) this.set(name, v);
  }

  /** The index of a name, or -1. */
  indexOf(name: string): number {
    return this.index.get(name) ?? -1;
  }

  get(key: number | string): number {
    return this.values[this.resolve(key)]!;
  }

  set(key: number | string, value: number): void {
    this.values[this.resolve(key)] = value;
  }

  fill(out: Float32Array, _t?: SourceFrameTime): void {
    const values = this.values;
    if (out.length < values.length) throw new Error(`vector input [${this.shape.join(', ')}]: output holds ${out.length} values, needs ${values.length}`);
    out.set(values);
  }

  private resolve(key: number | string): number {
    const i = typeof key === 'number' ? key : this.indexOf(key);
    if (!Number.isInteger(i) || i < 0 || i >= this.values.length) {
      throw new Error(`vector input [${this.shape.join(', ')}] has no parameter ${typeof key === 'number' ? `#${key}` : `"${key}"`} (names: ${this.names.join(', ')})`);
    }
    return i;
  }
}

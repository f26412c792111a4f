// Small vectors [1,K] (regression nets): each entry is a parameter the performer or a controller
// sets, named p0 ... pK-1 unless the model says otherwise.
import type { InputSource } from './source.ts';

export type VectorParams = Record<string, number>;

export class VectorSource implements InputSource<VectorParams> {
  readonly kind = 'params';
  params: VectorParams = {};
  readonly names: string[];

  constructor(
    readonly shape: readonly number[],
    names?: string[],
  ) {
    const k = shape.reduce((a, b) => a * b, 1);
    this.names = names ?? Array.from({ length: k }, (_, i) => `p${i}`);
    for (const n of this.names) this.params[n] = 0;
  }

  fill(out: Float32Array): void {
    for (let i = 0; i < this.names.length; i++) out[i] = this.params[this.names[i]!]!;
  }
}

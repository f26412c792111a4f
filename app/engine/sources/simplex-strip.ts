// The classic TouchDesigner latent: a 1xN row of 2D simplex noise, scrolled along x by time.
// Neighbouring entries are correlated (spacing), so the picture moves smoothly as the row scrolls.
import { createNoise2D, type NoiseFunction2D } from 'simplex-noise';
import { mulberry32 } from '../seeded-random.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export interface SimplexStripParams {
  amplitude: number;
  offset: number;
  /** Noise cells per second the row scrolls by. */
  speed: number;
  /** Noise cells between neighbouring latent entries. */
  spacing: number;
  seed: number;
}

export class SimplexStrip implements InputSource<SimplexStripParams> {
  readonly kind = 'strip';
  params: SimplexStripParams = { amplitude: 1, offset: 0, speed: 0.5, spacing: 0.1, seed: 0 };
  private noise: NoiseFunction2D;
  private noiseSeed: number;

  constructor(readonly shape: readonly number[]) {
    this.noiseSeed = this.params.seed;
    this.noise = createNoise2D(mulberry32(this.noiseSeed));
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    const p = this.params;
    if (p.seed !== this.noiseSeed) {
      // A new seed is a new permutation table: built once when the seed changes, not per frame.
      this.noiseSeed = p.seed;
      this.noise = createNoise2D(mulberry32(p.seed));
    }
    const x0 = t.time * p.speed;
    for (let i = 0; i < out.length; i++) out[i] = p.offset + p.amplitude * this.noise(x0 + i * p.spacing, 0.5);
  }
}

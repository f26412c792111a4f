// An animated noise texture for image-to-image nets: fractal 3D simplex noise (x, y, time), one
// z-offset per channel so channels differ. Pixel coordinates are precomputed once.
import { createNoise3D, type NoiseFunction3D } from 'simplex-noise';
import { mulberry32 } from '../seeded-random.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export interface NoiseTextureParams {
  /** Noise features across the image. */
  scale: number;
  octaves: number;
  speed: number;
  amplitude: number;
  offset: number;
  seed: number;
}

export class NoiseTexture implements InputSource<NoiseTextureParams> {
  readonly kind = 'noise';
  params: NoiseTextureParams = { scale: 3, octaves: 3, speed: 0.3, amplitude: 1, offset: 0, seed: 0 };
  private noise: NoiseFunction3D;
  private noiseSeed: number;
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;

  constructor(
    readonly shape: readonly number[],
    readonly layout: 'nchw' | 'nhwc',
  ) {
    const [, a, b, c] = shape as [number, number, number, number];
    [this.channels, this.height, this.width] = layout === 'nchw' ? [a, b, c] : [c, a, b];
    this.xs = Float32Array.from({ length: this.width }, (_, x) => x / this.width);
    this.ys = Float32Array.from({ length: this.height }, (_, y) => y / this.height);
    this.noiseSeed = 0;
    this.noise = createNoise3D(mulberry32(0));
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    const p = this.params;
    if (p.seed !== this.noiseSeed) {
      this.noiseSeed = p.seed;
      this.noise = createNoise3D(mulberry32(p.seed));
    }
    const { channels: C, height: H, width: W, xs, ys, noise } = this;
    const octaves = Math.max(1, Math.min(8, Math.round(p.octaves)));
    const norm = 1 / (2 - 2 ** (1 - octaves)); // sum of octave amplitudes 1 + 1/2 + ...
    const zt = t.time * p.speed;
    for (let c = 0; c < C; c++) {
      const zc = zt + c * 17.31;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let v = 0;
          let amp = 1;
          let f = p.scale;
          for (let o = 0; o < octaves; o++) {
            v += amp * noise(xs[x]! * f, ys[y]! * f, zc + o * 5.7);
            amp *= 0.5;
            f *= 2;
          }
          const i = this.layout === 'nchw' ? (c * H + y) * W + x : (y * W + x) * C + c;
          out[i] = p.offset + p.amplitude * v * norm;
        }
      }
    }
  }
}

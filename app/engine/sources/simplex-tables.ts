// The tables behind simplex noise, built exactly as simplex-noise 4 builds them for createNoise2D /
// createNoise3D(mulberry32(seed)), but into buffers the sources own and refill in place. The sources
// inline the noise kernels into their fill loops: calling simplex-noise's closure per sample boxes
// every returned double (a heap allocation per value) when V8 does not inline it. The tests check
// these kernels against simplex-noise itself.
import { mulberry32 } from '../../core/seeded-random.ts';

export const F2 = 0.5 * (Math.sqrt(3) - 1);
export const G2 = (3 - Math.sqrt(3)) / 6;
export const F3 = 1 / 3;
export const G3 = 1 / 6;

const GRAD2 = [1, 1, -1, 1, 1, -1, -1, -1, 1, 0, -1, 0, 1, 0, -1, 0, 0, 1, 0, -1, 0, 1, 0, -1];
const GRAD3 = [1, 1, 0, -1, 1, 0, 1, -1, 0, -1, -1, 0, 1, 0, 1, -1, 0, 1, 1, 0, -1, -1, 0, -1, 0, 1, 1, 0, -1, 1, 0, 1, -1, 0, -1, -1];

/** Seeds are integers; anything else (a float from a slider, NaN) is truncated, so it cannot rebuild every frame. */
export function seedOf(seed: number): number {
  return Number.isFinite(seed) ? Math.trunc(seed) | 0 : 0;
}

/** Fills perm (512 entries) with simplex-noise's permutation table for random = mulberry32(seed). */
export function seededPermutation(seed: number, perm: Uint8Array): void {
  const random = mulberry32(seed);
  for (let i = 0; i < 256; i++) perm[i] = i;
  for (let i = 0; i < 255; i++) {
    const r = i + ~~(random() * (256 - i));
    const aux = perm[i]!;
    perm[i] = perm[r]!;
    perm[r] = aux;
  }
  for (let i = 256; i < 512; i++) perm[i] = perm[i - 256]!;
}

/** The 2D gradient of each permutation entry (simplex-noise's permGrad2x/y). */
export function gradients2(perm: Uint8Array, gx: Float64Array, gy: Float64Array): void {
  for (let i = 0; i < 512; i++) {
    const g = (perm[i]! % 12) * 2;
    gx[i] = GRAD2[g]!;
    gy[i] = GRAD2[g + 1]!;
  }
}

/** The 3D gradient of each permutation entry (simplex-noise's permGrad3x/y/z). */
export function gradients3(perm: Uint8Array, gx: Float64Array, gy: Float64Array, gz: Float64Array): void {
  for (let i = 0; i < 512; i++) {
    const g = (perm[i]! % 12) * 3;
    gx[i] = GRAD3[g]!;
    gy[i] = GRAD3[g + 1]!;
    gz[i] = GRAD3[g + 2]!;
  }
}

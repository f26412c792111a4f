// The fixed sizes and kernels of the filtering ops, shared by the graph writer and the worker.

/** Blur kernels reach 9 pixels each way: 3 sigma of the largest blur (sigma 3). */
export const BLUR_RADIUS = 9;
/** Sharpen subtracts a blur of sigma 1, 3 pixels each way. */
export const SHARPEN_SIGMA = 1;
export const SHARPEN_RADIUS = 3;

/** A normalised 1-D Gaussian of 2r+1 taps; sigma near 0 gives the identity (1 in the middle). */
export function gaussianKernel(sigma: number, radius: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  if (!(sigma > 1e-3)) {
    k[radius] = 1;
    return k;
  }
  let sum = 0;
  const w: number[] = [];
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    w.push(v);
    sum += v;
  }
  w.forEach((v, i) => (k[i] = v / sum));
  return k;
}

/**
 * The canvas a geometric op samples: the map plus a one-pixel ring, zero-padded up to a power of
 * two per side. GridSample's normalised coordinates are then exact binary fractions, so a sample
 * that should land on a pixel centre does, bit for bit (with 38 or 54 it cannot always).
 */
export function gridCanvas(h: number, w: number): { h: number; w: number } {
  const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(n));
  return { h: pow2(h + 2), w: pow2(w + 2) };
}

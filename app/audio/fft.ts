// A real-input FFT of a power-of-two size, for the analyser: the N real samples are packed into
// N/2 complex ones, transformed by an iterative radix-2 FFT, and split back into the N/2 + 1 bins
// of the real spectrum. Twiddles and the bit-reversal table are built once; power() allocates nothing.

export class RealFft {
  readonly size: number;
  /** Bins in a spectrum: 0 (DC) .. size / 2 (Nyquist). */
  readonly bins: number;
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly rev: Uint32Array;
  /** cos / sin of -2 pi k / half, k < half / 2: the complex FFT's twiddles. */
  private readonly cosH: Float64Array;
  private readonly sinH: Float64Array;
  /** cos / sin of -2 pi k / size, k <= half: the split step's twiddles. */
  private readonly cosN: Float64Array;
  private readonly sinN: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two >= 4, got ${size}`);
    this.size = size;
    this.half = size / 2;
    this.bins = this.half + 1;
    this.re = new Float64Array(this.half);
    this.im = new Float64Array(this.half);
    const bits = Math.log2(this.half);
    this.rev = new Uint32Array(this.half);
    for (let i = 0; i < this.half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cosH = new Float64Array(this.half / 2);
    this.sinH = new Float64Array(this.half / 2);
    for (let k = 0; k < this.half / 2; k++) {
      this.cosH[k] = Math.cos((-2 * Math.PI * k) / this.half);
      this.sinH[k] = Math.sin((-2 * Math.PI * k) / this.half);
    }
    this.cosN = new Float64Array(this.half + 1);
    this.sinN = new Float64Array(this.half + 1);
    for (let k = 0; k <= this.half; k++) {
      this.cosN[k] = Math.cos((-2 * Math.PI * k) / size);
      this.sinN[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** |X[k]|^2 of the real signal `x` (size samples) into `out` (bins values). */
  power(x: Float64Array, out: Float64Array): void {
    const { re, im, rev, half } = this;
    for (let i = 0; i < half; i++) {
      const j = rev[i]!;
      re[j] = x[2 * i]!;
      im[j] = x[2 * i + 1]!;
    }
    // Stages of 2 and 4 need no multiplications (twiddles 1 and -i); the rest load each twiddle once.
    for (let a = 0; a + 1 < half; a += 2) {
      const tr = re[a + 1]!;
      const ti = im[a + 1]!;
      re[a + 1] = re[a]! - tr;
      im[a + 1] = im[a]! - ti;
      re[a] = re[a]! + tr;
      im[a] = im[a]! + ti;
    }
    if (half >= 4) {
      for (let a = 0; a < half; a += 4) {
        let tr = re[a + 2]!;
        let ti = im[a + 2]!;
        re[a + 2] = re[a]! - tr;
        im[a + 2] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        // times -i
        tr = im[a + 3]!;
        ti = -re[a + 3]!;
        re[a + 3] = re[a + 1]! - tr;
        im[a + 3] = im[a + 1]! - ti;
        re[a + 1] = re[a + 1]! + tr;
        im[a + 1] = im[a + 1]! + ti;
      }
    }
    for (let len = 8; len <= half; len <<= 1) {
      const h = len >> 1;
      const step = half / len;
      for (let k = 0; k < h; k++) {
        const wr = this.cosH[k * step]!;
        const wi = this.sinH[k * step]!;
        for (let a = k; a < half; a += len) {
          const b = a + h;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
    // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[half - k]) / 2, O = (Z[k] - conj Z[half - k]) / 2i.
    for (let k = 0; k <= half; k++) {
      const a = k % half;
      const b = (half - k) % half;
      const zr = re[a]!;
      const zi = im[a]!;
      const cr = re[b]!;
      const ci = -im[b]!;
      const er = (zr + cr) / 2;
      const ei = (zi + ci) / 2;
      const or = (zi - ci) / 2;
      const oi = -(zr - cr) / 2;
      const wr = this.cosN[k]!;
      const wi = this.sinN[k]!;
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      out[k] = xr * xr + xi * xi;
    }
  }
}

/** A periodic Hann window of `n` points. */
export function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

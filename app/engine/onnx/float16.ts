// IEEE half floats as their 16 bits: Node 20 has no Float16Array, and float16 weights must be read
// (listing, noise spread, partners) and written (converters) bit for bit as onnxruntime does.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half float nearest to `v` (ties to even, as onnxruntime's Cast rounds), as its bits. */
export function halfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Below the smallest normal half: a subnormal (or zero), rounded on the bits shifted out.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let m = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa lands in the exponent, which is the right rounding (up to inf).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

/** The value of half-float bits (exact: every half is a float32). */
export function halfValue(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// A layer tap as one picture: its channels side by side in a near-square grid, grey, normalised
// over the whole tensor so channels stay comparable. Vectors ([1,512]) become a strip of cells.
import type { TensorMsg } from './inference/protocol.ts';

export function tapGrid(t: TensorMsg, cell = 1): { width: number; height: number; rgba: Uint8Array } {
  const dims = t.dims.length >= 3 ? t.dims.slice(-3) : [1, 1, t.data.length];
  const [c, h, w] = dims as [number, number, number];
  const channels = t.dims.length >= 3 ? t.data.length / (h * w) : c;
  const cols = Math.ceil(Math.sqrt(channels));
  const rows = Math.ceil(channels / cols);
  const gw = cols * (w + 1) - 1;
  const gh = rows * (h + 1) - 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const k = hi > lo ? 255 / (hi - lo) : 0;
  const rgba = new Uint8Array(gw * gh * 4 * cell * cell);
  const W = gw * cell;
  for (let ch = 0; ch < channels; ch++) {
    const ox = (ch % cols) * (w + 1);
    const oy = Math.floor(ch / cols) * (h + 1);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const g = (t.data[ch * h * w + y * w + x]! - lo) * k;
        for (let dy = 0; dy < cell; dy++)
          for (let dx = 0; dx < cell; dx++) {
            const o = (((oy + y) * cell + dy) * W + (ox + x) * cell + dx) * 4;
            rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
            rgba[o + 3] = 255;
          }
      }
  }
  return { width: W, height: gh * cell, rgba };
}

// The sketch pad's picture as an image input: what the page drew (an RGBA picture of any size)
// resized into the input's layout once per stroke, mapped to [-1, 1] (the pix2pix convention),
// fed instead of the input's own source while its `sketch` switch is on. Also a coarse grey grid
// of it (SKETCH_CELLS x SKETCH_CELLS averages in [0, 1]), the inputs a regression net can take,
// as in ML Sketching (sketch -> features -> parameters).
import { resizeToTensor, type RgbaImage } from './image-file.ts';
import type { ImageLayoutFlag } from './noise-texture.ts';

export const SKETCH_CELLS = 8;
/** Largest sketch taken (per side): the page draws at the input's size; anything bigger is refused. */
export const MAX_SKETCH_SIDE = 2048;

export class SketchInput {
  /** The sketch in the input's layout, in [-1, 1]; undefined until the first stroke arrives. */
  private tensor: Float32Array | undefined;

  constructor(
    readonly dims: readonly number[],
    readonly layout: ImageLayoutFlag,
  ) {}

  get drawn(): boolean {
    return this.tensor !== undefined;
  }

  /** Takes a new picture; returns its grey grid (SKETCH_CELLS^2 values, row by row). */
  take(img: RgbaImage): number[] {
    if (!(img.width >= 1 && img.height >= 1 && img.width <= MAX_SKETCH_SIDE && img.height <= MAX_SKETCH_SIDE) || img.data.length < img.width * img.height * 4) {
      throw new Error(`a sketch is 1 to ${MAX_SKETCH_SIDE} pixels a side (got ${img.width}x${img.height})`);
    }
    const [, a, b, c] = this.dims as [number, number, number, number];
    const [C, H, W] = this.layout === 'nchw' ? [a, b, c] : [c, a, b];
    const unit = new Float32Array(C * H * W);
    resizeToTensor(img, unit, C, H, W, this.layout);
    for (let i = 0; i < unit.length; i++) unit[i] = unit[i]! * 2 - 1;
    this.tensor = unit;
    return greyGrid(img);
  }

  /** Writes the sketch into a frame's input buffer (when there is one). */
  fill(out: Float32Array): boolean {
    if (!this.tensor) return false;
    out.set(this.tensor);
    return true;
  }
}

function greyGrid(img: RgbaImage): number[] {
  const n = SKETCH_CELLS;
  const sums = new Float64Array(n * n);
  const counts = new Uint32Array(n * n);
  for (let y = 0; y < img.height; y++) {
    const cy = Math.min(n - 1, Math.floor((y * n) / img.height));
    for (let x = 0; x < img.width; x++) {
      const cx = Math.min(n - 1, Math.floor((x * n) / img.width));
      const i = (y * img.width + x) * 4;
      const k = cy * n + cx;
      sums[k] = sums[k]! + (0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!) / 255;
      counts[k] = counts[k]! + 1;
    }
  }
  return Array.from(sums, (s, i) => s / Math.max(1, counts[i]!));
}

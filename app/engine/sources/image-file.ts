// A still image for image inputs: a PNG read once, resized bilinearly to the input's H x W, turned
// into the input's layout (NCHW or NHWC), channel count (1: luminance, 3: RGB, 4: RGBA) and value
// range. All of that happens in the constructor; fill() copies the finished tensor. Only PNG is
// read (pngjs): decoding JPEG would need another package, so a JPEG gets a clear error instead.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PNG } from 'pngjs';
import type { InputSource, SourceFrameTime } from './source.ts';
import type { ImageLayoutFlag } from './noise-texture.ts';

export type ImageRange = '-1..1' | '0..1' | '0..255';

export interface ImageFileParams {
  /** Value range the 8-bit pixels are mapped to; default '-1..1'. */
  range: ImageRange;
}

export const IMAGE_FILE_DEFAULTS: Readonly<ImageFileParams> = Object.freeze({ range: '-1..1' });

const RANGES: readonly ImageRange[] = ['-1..1', '0..1', '0..255'];

/** An 8-bit RGBA picture as decoded. */
export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row by row. */
  data: Uint8Array;
}

export class ImageFile implements InputSource<ImageFileParams> {
  readonly kind = 'image';
  readonly shape: readonly number[];
  readonly layout: ImageLayoutFlag;
  /** The file, resolved to an absolute path. */
  readonly path: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Size of the picture in the file, before resizing. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  params: ImageFileParams;
  /** The resized picture in [0, 1], already in the input's layout. */
  private readonly unit: Float32Array;
  /** `unit` mapped to the current range; remapped only when the range changes. */
  private readonly tensor: Float32Array;
  private tensorRange: ImageRange | undefined;

  constructor(shape: readonly number[], layout: ImageLayoutFlag, file: string, params: Partial<ImageFileParams> = {}) {
    if (shape.length !== 4 || shape[0] !== 1) throw new Error(`image "${file}": needs a [1,C,H,W] or [1,H,W,C] input, got [${shape.join(', ')}]`);
    const [, a, b, c] = shape as [number, number, number, number];
    const [C, H, W] = layout === 'nchw' ? [a, b, c] : [c, a, b];
    if (!(C === 1 || C === 3 || C === 4) || !(H >= 1 && W >= 1)) throw new Error(`image "${file}": cannot feed [${shape.join(', ')}] (${layout}); needs 1, 3 or 4 channels`);
    this.shape = Object.freeze(shape.slice());
    this.layout = layout;
    this.channels = C;
    this.height = H;
    this.width = W;
    this.path = resolve(file);
    this.params = { ...IMAGE_FILE_DEFAULTS, ...params };
    const img = readPng(file);
    this.sourceWidth = img.width;
    this.sourceHeight = img.height;
    this.unit = new Float32Array(C * H * W);
    this.tensor = new Float32Array(C * H * W);
    resizeToTensor(img, this.unit, C, H, W, layout);
  }

  fill(out: Float32Array, _t?: SourceFrameTime): void {
    const range = this.params.range;
    if (range !== this.tensorRange) this.remap(range);
    if (out.length < this.tensor.length) throw new Error(`image "${this.path}": output holds ${out.length} values, needs ${this.tensor.length}`);
    out.set(this.tensor);
  }

  private remap(range: ImageRange): void {
    if (!RANGES.includes(range)) throw new Error(`image "${this.path}": unknown range "${range}"; use ${RANGES.join(', ')}`);
    const [mul, add] = range === '-1..1' ? [2, -1] : range === '0..1' ? [1, 0] : [255, 0];
    const { unit, tensor } = this;
    for (let i = 0; i < unit.length; i++) tensor[i] = add + mul * unit[i]!;
    this.tensorRange = range;
  }
}

/** Reads a PNG into 8-bit RGBA, with errors that name the file and what is wrong with it. */
export function readPng(file: string): RgbaImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`image "${file}": no such file`);
    if (code === 'EISDIR') throw new Error(`image "${file}": is a folder, not a PNG file`);
    throw new Error(`image "${file}": cannot be read (${(e as Error).message})`);
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    throw new Error(`image "${file}": is a JPEG; only PNG images are supported (convert it to PNG)`);
  }
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || signature.some((v, i) => bytes[i] !== v)) {
    throw new Error(`image "${file}": not a PNG file (${bytes.length === 0 ? 'it is empty' : 'no PNG signature'}); only PNG images are supported`);
  }
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new Error(`image "${file}": broken PNG (${(e as Error).message})`);
  }
  if (!(png.width >= 1 && png.height >= 1) || png.data.length < png.width * png.height * 4) {
    throw new Error(`image "${file}": PNG decoded to no pixels (${png.width}x${png.height})`);
  }
  return { width: png.width, height: png.height, data: png.data };
}

/**
 * Bilinear resize (pixel centres aligned, edges clamped) of an RGBA picture into a [0, 1] tensor of
 * C channels (1: Rec. 601 luminance, 3: RGB, 4: RGBA) in the given layout. Alpha is ignored unless C = 4.
 */
export function resizeToTensor(img: RgbaImage, out: Float32Array, C: number, H: number, W: number, layout: ImageLayoutFlag): void {
  const { width: sw, height: sh, data } = img;
  const sx = sw / W;
  const sy = sh / H;
  const px = new Float64Array(4);
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const a = (y0 * sw + x0) * 4;
      const b = (y0 * sw + x1) * 4;
      const c = (y1 * sw + x0) * 4;
      const d = (y1 * sw + x1) * 4;
      for (let k = 0; k < 4; k++) {
        const top = data[a + k]! + wx * (data[b + k]! - data[a + k]!);
        const bottom = data[c + k]! + wx * (data[d + k]! - data[c + k]!);
        px[k] = (top + wy * (bottom - top)) / 255;
      }
      if (C === 1) {
        // One channel is the same index in both layouts.
        out[y * W + x] = 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!;
        continue;
      }
      for (let k = 0; k < C; k++) out[layout === 'nchw' ? (k * H + y) * W + x : (y * W + x) * C + k] = px[k]!;
    }
  }
}

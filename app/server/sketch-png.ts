// A sketch from a page arrives as a base64 PNG: its size is read from the header before anything
// is decoded (a few hostile bytes must not inflate into gigabytes), then pngjs decodes it.
import { PNG } from 'pngjs';
import type { RgbaImage } from '../engine/sources/image-file.ts';
import { MAX_SKETCH_SIDE } from '../engine/sources/sketch.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function decodeSketchPng(base64: string): RgbaImage {
  const bytes = Buffer.from(base64.replace(/^data:image\/png;base64,/, ''), 'base64');
  if (bytes.length < 33 || SIGNATURE.some((v, i) => bytes[i] !== v) || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('a sketch is a PNG picture');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (!(width >= 1 && height >= 1 && width <= MAX_SKETCH_SIDE && height <= MAX_SKETCH_SIDE)) throw new Error(`a sketch is 1 to ${MAX_SKETCH_SIDE} pixels a side (this one says ${width}x${height})`);
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(bytes);
  } catch (err) {
    throw new Error(`a broken sketch PNG (${(err as Error).message})`);
  }
  return { width: png.width, height: png.height, data: png.data };
}

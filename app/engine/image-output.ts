// Which output is the picture. A float tensor [1,C,H,W] or [1,H,W,C] with 1, 3 or 4 channels is
// an image; every other output is numbers the performer can route (regression nets).
import type { TensorInfo } from './onnx/model-info.ts';
import type { ImageLayout } from './onnx/rewrite.ts';

export function findImageOutput(outputs: TensorInfo[]): ImageLayout | undefined {
  for (const o of outputs) {
    if (o.dtype !== 'float32' || o.shape.length !== 4) continue;
    const [n, a, b, c] = o.shape;
    const isChannels = (d: unknown): d is 1 | 3 | 4 => d === 1 || d === 3 || d === 4;
    if (n !== 1 && typeof n === 'number') continue;
    if (isChannels(a) && typeof b === 'number' && typeof c === 'number' && b > 4 && c > 4) return { output: o.name, layout: 'nchw', channels: a, height: b, width: c };
    if (isChannels(c) && typeof a === 'number' && typeof b === 'number' && a > 4 && b > 4) return { output: o.name, layout: 'nhwc', channels: c, height: a, width: b };
  }
  return undefined;
}

// Which source feeds an input, chosen by its shape: latents get the noise strip, small vectors get
// parameters, images get the noise texture. Overridable by name.
import type { InputSource } from './source.ts';
import { SimplexStrip } from './simplex-strip.ts';
import { VectorSource } from './vector-params.ts';
import { NoiseTexture } from './noise-texture.ts';

const SUPPORTED = 'supported: a latent [1,N], a parameter vector [1,K], or an image [1,C,H,W] / [1,H,W,C] with C = 1, 3 or 4';

export function chooseSource(input: string, shape: readonly (number | string)[], dtype: string, override?: string): InputSource<object> {
  const shown = `[${shape.join(', ')}]`;
  if (dtype !== 'float32') throw new Error(`input "${input}" is ${dtype} ${shown}: netbend feeds float32 inputs only (${SUPPORTED})`);
  // A symbolic or -1 batch dimension is fed as 1; any other unknown size cannot be chosen for.
  const dims = shape.map((d, i) => (i === 0 && (typeof d === 'string' || d < 1) ? 1 : d));
  if (dims.some((d) => typeof d !== 'number' || d < 1)) throw new Error(`input "${input}" has dynamic size ${shown}; ${SUPPORTED}`);
  const n = dims as number[];
  const isChannels = (c: number | undefined) => c === 1 || c === 3 || c === 4;
  const vector = n.length === 2 && n[0] === 1 ? n[1]! : n.length === 1 ? n[0]! : undefined;
  const image = n.length === 4 && n[0] === 1 ? (isChannels(n[1]) ? 'nchw' : isChannels(n[3]) ? 'nhwc' : undefined) : undefined;
  const kind = override ?? (vector !== undefined ? (vector >= 64 ? 'strip' : 'params') : image ? 'noise' : undefined);
  const fits = (ok: boolean) => {
    if (!ok) throw new Error(`input "${input}" ${shown} cannot take a "${kind}" source; ${SUPPORTED}`);
  };
  switch (kind) {
    case 'strip':
      fits(vector !== undefined);
      return new SimplexStrip(n);
    case 'params':
      fits(vector !== undefined);
      return new VectorSource(n);
    case 'noise':
      fits(image !== undefined);
      return new NoiseTexture(n, image!);
    case undefined:
      throw new Error(`input "${input}" has shape ${shown}, which netbend cannot feed; ${SUPPORTED}`);
    default:
      throw new Error(`input "${input}": unknown source "${kind}"; use strip, params or noise`);
  }
}

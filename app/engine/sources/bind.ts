// Which source feeds an input, chosen by its shape: latents get the noise strip, small vectors get
// parameters, images get the noise texture. An override names another kind that fits the shape.
import type { InputSource } from './source.ts';
import { SimplexStrip } from './simplex-strip.ts';
import { GaussianWalk } from './gaussian-walk.ts';
import { VectorSource } from './vector-params.ts';
import { NoiseTexture, type ImageLayoutFlag } from './noise-texture.ts';
import { ImageFile } from './image-file.ts';
import { KeyframeLoop } from './keyframe-loop.ts';

/** Vectors this long or longer are latents (strip); shorter ones are parameter vectors. */
export const LATENT_MIN = 64;

export type SourceKind = 'strip' | 'walk' | 'keyframes' | 'noise' | 'image' | 'params';
/** What an override may say: a kind, or `image:<path>`. */
export const SOURCE_OVERRIDES = ['strip', 'walk', 'noise', 'image:<path>', 'params', 'keyframes'] as const;

const SUPPORTED =
  `supported: a latent [1,N] or [N] with N >= ${LATENT_MIN}, a parameter vector [1,K] or [K] with K < ${LATENT_MIN}, ` +
  'or an image [1,C,H,W] / [1,H,W,C] with C = 1, 3 or 4, all float32 with fixed sizes (a dynamic batch dimension counts as 1)';

/** How an input's shape can be fed, once a dynamic batch dimension is read as 1. */
export interface InputFit {
  /** The concrete shape the source fills. */
  dims: number[];
  /** Length when the shape is a vector ([N] or [1,N]). */
  vector?: number;
  /** Layout when the shape is an image. */
  image?: ImageLayoutFlag;
}

/**
 * Reads an input's shape: a symbolic name ('N', 'batch', '?') or a non-positive size in position 0
 * is a batch of 1; any other unknown size cannot be fed. Throws with the input, its shape and what
 * is supported.
 */
export function fitShape(input: string, shape: readonly (number | string)[], dtype: string): InputFit {
  const shown = `[${shape.join(', ')}]`;
  if (dtype !== 'float32' && dtype !== 'float') throw new Error(`input "${input}" is ${dtype} ${shown}: netbend feeds float32 inputs only; ${SUPPORTED}`);
  const dims = shape.map((d, i) => (i === 0 && (typeof d === 'string' || d < 1) ? 1 : d));
  if (dims.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw new Error(`input "${input}" has shape ${shown} with a dynamic or unknown size after the batch dimension; ${SUPPORTED}`);
  }
  const n = dims as number[];
  const isChannels = (c: number | undefined) => c === 1 || c === 3 || c === 4;
  const fit: InputFit = { dims: n };
  if (n.length === 2 && n[0] === 1) fit.vector = n[1]!;
  else if (n.length === 1) fit.vector = n[0]!;
  else if (n.length === 4 && n[0] === 1) {
    if (isChannels(n[1])) fit.image = 'nchw';
    else if (isChannels(n[3])) fit.image = 'nhwc';
  }
  return fit;
}

/**
 * The source for one model input: by shape unless `override` names a kind ('strip' | 'walk' |
 * 'keyframes' | 'noise' | 'image:<path>' | 'params'). Throws an Error naming the input and its shape when the
 * shape cannot be fed or the override does not fit it.
 */
export function chooseSource(input: string, shape: readonly (number | string)[], dtype: string, override?: string): InputSource<object> {
  const shown = `[${shape.join(', ')}]`;
  const fit = fitShape(input, shape, dtype);
  const { dims, vector, image } = fit;
  const wanted = override?.trim() || undefined;
  const kind = wanted ?? (vector !== undefined ? (vector >= LATENT_MIN ? 'strip' : 'params') : image ? 'noise' : undefined);
  if (kind === undefined) throw new Error(`input "${input}" has shape ${shown}, which netbend cannot feed; ${SUPPORTED}`);
  const needs = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`input "${input}" ${shown} cannot take a "${kind}" source: it needs ${what}`);
  };
  const VECTOR = 'a vector [1,N] or [N]';
  const IMAGE = 'an image [1,C,H,W] or [1,H,W,C] with C = 1, 3 or 4';
  if (kind.startsWith('image:') || kind === 'image') {
    const path = kind.slice('image:'.length).trim();
    if (kind === 'image' || !path) throw new Error(`input "${input}" ${shown}: the image source needs a file, as image:<path>`);
    needs(image !== undefined, IMAGE);
    try {
      return new ImageFile(dims, image!, path);
    } catch (e) {
      throw new Error(`input "${input}" ${shown}: ${(e as Error).message}`, { cause: e });
    }
  }
  switch (kind) {
    case 'strip':
      needs(vector !== undefined, VECTOR);
      return new SimplexStrip(dims);
    case 'walk':
      needs(vector !== undefined, VECTOR);
      return new GaussianWalk(dims);
    case 'keyframes':
      needs(vector !== undefined, VECTOR);
      return new KeyframeLoop(dims);
    case 'params':
      needs(vector !== undefined, VECTOR);
      return new VectorSource(dims);
    case 'noise':
      needs(image !== undefined, IMAGE);
      return new NoiseTexture(dims, image!);
    default:
      throw new Error(`input "${input}" ${shown}: unknown source "${kind}"; use one of ${SOURCE_OVERRIDES.join(', ')}`);
  }
}

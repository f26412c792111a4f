// A direction set as a file holds it: the principal directions of one model's w (unit vectors and
// their standard deviations) with the layers each one moves, so a set found once (or edited
// elsewhere) plays again without sampling, and every device moving its amounts means the same move.
import { z } from 'zod';
import type { Directions } from './directions.ts';

export const DIRECTION_SET_FORMAT = 'netbend-directions';
/** More than anyone can play by hand; bounds what a file may make the engine hold. */
export const MAX_DIRECTIONS = 64;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
/**
 * A direction's standard deviation, in w's units (a real model's are a few at most), and its
 * vector's components (a unit vector's are within 1; an edited set may scale them): far past any
 * real set, small enough that 64 directions at amount 100 stay finite in float32.
 */
export const MAX_SIGMA = 1e4;
export const MAX_COMPONENT = 100;

export const DirectionSetSchema = z
  .object({
    format: z.literal(DIRECTION_SET_FORMAT),
    version: z.literal(1),
    numWs: z.number().int().positive(),
    wDim: z.number().int().positive().max(65536),
    directions: z
      .array(
        z.object({
          sigma: finite.refine((s) => s >= 0 && s <= MAX_SIGMA, `must be a standard deviation of w, from 0 to ${MAX_SIGMA}`),
          from: z.number().int().min(0),
          to: z.number().int().min(0),
          vector: z.array(finite.refine((v) => Math.abs(v) <= MAX_COMPONENT, `must be a direction's component, from -${MAX_COMPONENT} to ${MAX_COMPONENT}`)),
        }),
      )
      .max(MAX_DIRECTIONS),
  })
  .superRefine((set, ctx) => {
    set.directions.forEach((d, k) => {
      if (d.vector.length !== set.wDim) ctx.addIssue({ code: 'custom', path: ['directions', k, 'vector'], message: `has ${d.vector.length} values, wDim is ${set.wDim}` });
      if (d.from > d.to || d.to > set.numWs) ctx.addIssue({ code: 'custom', path: ['directions', k], message: `layers ${d.from}-${d.to} are not within 0-${set.numWs}` });
    });
  });

export type DirectionSet = z.infer<typeof DirectionSetSchema>;

export function directionSet(d: Directions, numWs: number, ranges: Array<[number, number]>): DirectionSet {
  return {
    format: DIRECTION_SET_FORMAT,
    version: 1,
    numWs,
    wDim: d.dim,
    directions: d.sigmas.map((sigma, k) => ({ sigma, from: ranges[k]?.[0] ?? 0, to: ranges[k]?.[1] ?? numWs, vector: Array.from(d.vectors.subarray(k * d.dim, (k + 1) * d.dim)) })),
  };
}

/** Parses a set; a problem becomes one message naming where it is. */
export function parseDirectionSet(data: unknown): DirectionSet {
  const r = DirectionSetSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`not a direction set: ${i.path.join('.') || '(top)'} ${i.message}`);
  }
  return r.data;
}

export function setDirections(set: DirectionSet): Directions {
  const vectors = new Float32Array(set.directions.length * set.wDim);
  set.directions.forEach((d, k) => vectors.set(d.vector, k * set.wDim));
  return { dim: set.wDim, vectors, sigmas: set.directions.map((d) => d.sigma) };
}

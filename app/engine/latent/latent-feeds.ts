// What a frame of W space sends the inference worker, and how the worker turns it into feeds of
// the latent graph (see w-graph.ts). Plain data: both threads import this file.
import type { TensorMsg } from '../inference/protocol.ts';

export interface LatentShape {
  numWs: number;
  wDim: number;
  /** Graph inputs the mapping reads; the mix copy takes each as latentZ2(name). */
  inputs: string[];
}

export interface LatentFrame {
  psi: number;
  /** [numWs * wDim], the estimated w_avg per layer. */
  wavg: Float32Array;
  /** [numWs], 1 where the mix latent's w is taken. */
  mask: Float32Array;
  /** [numWs * wDim], the direction offsets. */
  offset: Float32Array;
  /** The mix latent's inputs (the mix seed's z); absent while no layer is mixed. */
  z2?: Record<string, TensorMsg>;
}

/** The frame that changes nothing (for a live graph playing a bend while W space is at identity). */
export function identityFrame(shape: LatentShape): LatentFrame {
  return { psi: 1, wavg: new Float32Array(shape.numWs * shape.wDim), mask: new Float32Array(shape.numWs), offset: new Float32Array(shape.numWs * shape.wDim) };
}

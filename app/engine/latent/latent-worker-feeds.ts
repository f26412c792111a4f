// The inference worker's side of W space: a LatentFrame becomes the latent graph's feeds. The
// identity frame's tensors are made once per shape; only the mix latent's z changes per frame.
import ort from '../inference/ort.ts';
import type { TensorMsg } from '../inference/protocol.ts';
import { LATENT_MASK, LATENT_OFFSET, LATENT_PSI, LATENT_WAVG, latentZ2 } from './w-graph.ts';
import { identityFrame, type LatentFrame, type LatentShape } from './latent-feeds.ts';

let identity: { shape: LatentShape; frame: LatentFrame } | undefined;

export function latentFeeds(feeds: Record<string, ort.Tensor>, shape: LatentShape, frame: LatentFrame | undefined, inputs: Record<string, TensorMsg>): void {
  if (!frame) {
    if (identity?.shape !== shape) identity = { shape, frame: identityFrame(shape) };
    frame = identity.frame;
  }
  const { numWs, wDim } = shape;
  feeds[LATENT_PSI] = new ort.Tensor('float32', new Float32Array([frame.psi]), [1]);
  feeds[LATENT_WAVG] = new ort.Tensor('float32', frame.wavg, [1, numWs, wDim]);
  feeds[LATENT_MASK] = new ort.Tensor('float32', frame.mask, [1, numWs, 1]);
  feeds[LATENT_OFFSET] = new ort.Tensor('float32', frame.offset, [1, numWs, wDim]);
  // No layer mixed: the copy runs on the frame's own z (its result is multiplied by 0).
  for (const name of shape.inputs) {
    const t = frame.z2?.[name] ?? inputs[name]!;
    feeds[latentZ2(name)] = new ort.Tensor('float32', t.data, t.dims);
  }
}

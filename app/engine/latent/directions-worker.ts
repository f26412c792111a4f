// PCA of sampled w in its own thread: a 512 x 512 eigendecomposition takes a good part of a
// second, which the frame loop must not notice.
import { parentPort } from 'node:worker_threads';
import { serveRequests } from '../inference/worker-serve.ts';
import { principalDirections } from './directions.ts';

export interface DirectionsRequest {
  kind: 'pca';
  samples: Float32Array;
  count: number;
  dim: number;
  k: number;
}

serveRequests<DirectionsRequest>(parentPort!, async (req) => {
  const d = principalDirections(req.samples, req.count, req.dim, req.k);
  return { ok: d, transfer: [d.vectors.buffer as ArrayBuffer] };
});

// Computes one layer's channel groups in its own thread: pooling a sample of a large layer and the
// correlation matrix take from milliseconds to most of a second, which the frame loop, on the
// main thread, must not notice. Each sample is pooled as it arrives and its full maps dropped, so a
// 1024-pixel StyleGAN layer's samples are never all held at once. One worker serves one layer.
import { parentPort } from 'node:worker_threads';
import { serveRequests } from '../inference/worker-serve.ts';
import { type ChannelGroupOptions, channelGroups, pooledSize, poolMaps } from './channel-groups.ts';

export type GroupsRequest =
  /** One sample of `count` (the total sets the pooled size), moved here, not copied. */
  { kind: 'add'; data: Float32Array; dims: number[]; count: number } | { kind: 'groups'; opts: ChannelGroupOptions };

const pooled: Float32Array[] = [];
let pooledDims: number[] | undefined;

serveRequests<GroupsRequest>(parentPort!, async (req) => {
  if (req.kind === 'add') {
    const [, channels, height, width] = req.dims as [number, number, number, number];
    const [h, w] = pooledSize(channels, req.count, height, width);
    pooledDims ??= [1, channels, h, w];
    pooled.push(poolMaps(req.data, req.dims, h, w));
    return { ok: true };
  }
  if (!pooledDims) throw new Error('no activation samples to group');
  return { ok: channelGroups(pooled, pooledDims, req.opts) };
});

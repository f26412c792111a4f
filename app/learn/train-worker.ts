// One training run in its own thread (see train.ts). Progress goes out at most every 50 ms, and
// always at a change of stage or pass and at the last epoch; the model's bytes are moved, not copied.
import { parentPort } from 'node:worker_threads';
import type { Dataset } from './dataset.ts';
import { type TrainedMapper, TrainError, type TrainOptions, type TrainProgress, train } from './fit.ts';

export interface TrainRequest {
  data: Dataset;
  opts: TrainOptions;
}

export type TrainReply = { kind: 'progress'; progress: TrainProgress } | { kind: 'done'; mapper: TrainedMapper } | { kind: 'error'; message: string; refused: boolean };

const port = parentPort!;
port.once('message', ({ data, opts }: TrainRequest) => {
  let last: TrainProgress | undefined;
  let sent = 0;
  const progress = (p: TrainProgress) => {
    const now = performance.now();
    const turn = p.stage !== last?.stage || p.pass !== last?.pass || p.epoch === p.epochs;
    last = p;
    if (!turn && now - sent < 50) return;
    sent = now;
    port.postMessage({ kind: 'progress', progress: p } satisfies TrainReply);
  };
  try {
    const mapper = train(data, opts, progress);
    port.postMessage({ kind: 'done', mapper } satisfies TrainReply, [mapper.onnx.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err), refused: err instanceof TrainError } satisfies TrainReply);
  }
});

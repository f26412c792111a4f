// Training a mapper (issue 13), the API the live side and the CLI call: `trainInWorker` fits in
// its own thread, so a show's frame loop never waits on it, reporting progress as it goes;
// `train` is the same in this thread; `writeMapper` puts the ONNX file and its card on disk.
// The fitting itself is fit.ts (kept apart so the worker's bundle holds no bundler).
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../engine/inference/worker-bundle.ts';
import type { Dataset } from './dataset.ts';
import { checkOptions, type TrainedMapper, TrainError, type TrainOptions, type TrainProgress } from './fit.ts';
import type { TrainReply, TrainRequest } from './train-worker.ts';

export { train, TrainError, checkOptions, MIN_EXAMPLES } from './fit.ts';
export type { MapperCard, MapperKind, TrainedMapper, TrainOptions, TrainProgress } from './fit.ts';

const WORKER = new URL('./train-worker.ts', import.meta.url);

/**
 * Trains in a worker thread; progress as it goes (at most ~20 reports a second). Options are
 * checked here first, so a refusal comes at once with the same sentence. Aborting ends the
 * worker and rejects with the signal's reason.
 */
export async function trainInWorker(data: Dataset, opts: TrainOptions, onProgress?: (p: TrainProgress) => void, signal?: AbortSignal): Promise<TrainedMapper> {
  checkOptions(data, opts);
  signal?.throwIfAborted();
  const url = await workerUrl(WORKER);
  signal?.throwIfAborted();
  const worker = new Worker(url);
  return new Promise<TrainedMapper>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      fn();
    };
    const abort = () => finish(() => reject(signal!.reason));
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (msg: TrainReply) => {
      if (msg.kind === 'progress') {
        if (!settled) onProgress?.(msg.progress);
      } else if (msg.kind === 'done') finish(() => resolve(msg.mapper));
      else finish(() => reject(msg.refused ? new TrainError(msg.message) : new Error(msg.message)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the training worker exited (${code})`))));
    worker.postMessage({ data, opts } satisfies TrainRequest);
  });
}

/** Writes `<file>` and `<file>.card.json`, each whole or not at all (the model first). */
export async function writeMapper(file: string, m: TrainedMapper): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await atomicWriteBytes(file, m.onnx);
  await atomicWriteBytes(`${file}.card.json`, new TextEncoder().encode(JSON.stringify(m.card, null, 2) + '\n'));
}

/** preset-store's atomicWrite for bytes: a temp file beside it, fsync, rename. */
async function atomicWriteBytes(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    await rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

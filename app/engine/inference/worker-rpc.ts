// Request and reply with one worker thread over postMessage: each call gets its own id, buffers
// named in `transfer` move instead of being copied, and a worker that dies rejects every call it
// still owed (and every later one) with the reason. Calls made while the worker is still being
// bundled and started wait for it.
import { Worker } from 'node:worker_threads';
import { workerUrl } from './worker-bundle.ts';

export class WorkerRpc<Req> {
  private readonly worker: Promise<Worker | undefined>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  /** `entry`: the worker's TypeScript module (see worker-bundle.ts). */
  constructor(entry: URL) {
    this.worker = workerUrl(entry).then(
      (url) => this.attach(new Worker(url)),
      (err: Error) => {
        this.fail(new Error(`cannot bundle the worker ${entry.pathname}: ${err.message}`));
        return undefined;
      },
    );
  }

  private attach(worker: Worker): Worker {
    worker.on('message', (msg: { id: number; ok?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.ok);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`worker exited (${code})`)));
    if (this.dead) void worker.terminate(); // terminated before it started
    return worker;
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  get alive(): boolean {
    return !this.dead;
  }

  call<T>(req: Req, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      void this.worker.then((w) => w?.postMessage({ id, req }, transfer));
    });
  }

  async terminate(): Promise<void> {
    this.fail(new Error('worker terminated'));
    await (await this.worker)?.terminate();
  }
}

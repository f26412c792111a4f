// Request and reply with one worker thread over postMessage: each call gets its own id, buffers
// named in `transfer` move instead of being copied, and a worker that dies rejects every call it
// still owed (and every later one) with the reason.
import { Worker } from 'node:worker_threads';

export class WorkerRpc<Req> {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  /** `entry`: the worker's TypeScript module, started through worker-boot.mjs. */
  constructor(entry: URL) {
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry: entry.href } });
    this.worker.on('message', (msg: { id: number; ok?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.ok);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`worker exited (${code})`)));
  }

  get alive(): boolean {
    return !this.dead;
  }

  call<T>(req: Req, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * The worker side: answers each request with `handle`'s result (and the buffers it names to
 * transfer), or with its error's message.
 */
export function serveRequests<Req>(port: import('node:worker_threads').MessagePort, handle: (req: Req) => Promise<{ ok: unknown; transfer?: ArrayBuffer[] }>): void {
  port.on('message', async (msg: { id: number; req: Req }) => {
    try {
      const { ok, transfer } = await handle(msg.req);
      port.postMessage({ id: msg.id, ok }, transfer ?? []);
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}

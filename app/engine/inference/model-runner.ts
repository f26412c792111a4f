// The engine's handle on the inference worker: request/reply over postMessage, buffers transferred
// not copied. One runner = one worker = one session; swapping models or live-weight sets starts a
// new runner beside the old one, which keeps serving frames until the new one is ready.
import { Worker } from 'node:worker_threads';
import type { LoadReply, LoadRequest, Request, RunReply, RunRequest } from './protocol.ts';

export class ModelRunner {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  private constructor() {
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./ort-worker.ts', import.meta.url).href },
    });
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
    this.worker.on('exit', (code) => fail(new Error(`inference worker exited (${code})`)));
  }

  static async start(req: LoadRequest): Promise<{ runner: ModelRunner; info: LoadReply }> {
    const runner = new ModelRunner();
    try {
      const info = (await runner.call(req)) as LoadReply;
      return { runner, info };
    } catch (err) {
      await runner.close();
      throw err;
    }
  }

  /** Feeds are copied (sources refill their own buffers every frame); results are transferred. */
  run(req: RunRequest): Promise<RunReply> {
    return this.call(req) as Promise<RunReply>;
  }

  async close(): Promise<void> {
    if (!this.dead) await this.call({ kind: 'dispose' }).catch(() => {});
    await this.worker.terminate();
  }

  private call(req: Request): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, req });
    });
  }
}

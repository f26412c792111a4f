// The engine's handle on the inference worker: one runner = one worker = one session pair.
// Swapping models or live-weight sets starts a new runner beside the old one, which keeps serving
// frames until the new one is ready. The graphs arrive as bytes from the model host, moved, not copied.
import type { LoadReply, LoadRequest, Request, RunReply, RunRequest } from './protocol.ts';
import { WorkerRpc } from './worker-rpc.ts';

export class ModelRunner {
  private readonly rpc = new WorkerRpc<Request>(new URL('./ort-worker.ts', import.meta.url));

  /**
   * Starts a worker at once (booting it overlaps whatever the caller does next) and loads
   * `load()`'s graphs into it when they are ready.
   */
  static spawn(): ModelRunner {
    return new ModelRunner();
  }

  /** Loads the graphs (their buffers move to the worker); on failure the worker is closed. */
  async load(req: LoadRequest): Promise<LoadReply> {
    try {
      const transfer = [req.plain.buffer as ArrayBuffer, ...(req.live ? [req.live.buffer as ArrayBuffer] : [])];
      return await this.rpc.call<LoadReply>(req, transfer);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Feeds are copied (sources refill their own buffers every frame); results are transferred. */
  run(req: RunRequest): Promise<RunReply> {
    return this.rpc.call<RunReply>(req);
  }

  async close(): Promise<void> {
    if (this.rpc.alive) await this.rpc.call({ kind: 'dispose' }).catch(() => {});
    await this.rpc.terminate();
  }
}

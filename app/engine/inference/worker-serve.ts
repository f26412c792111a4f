// The worker side of WorkerRpc, kept apart from it so a worker's bundle holds no bundler.
import type { MessagePort } from 'node:worker_threads';

/**
 * The worker side: answers each request with `handle`'s result (and the buffers it names to
 * transfer), or with its error's message.
 */
export function serveRequests<Req>(port: MessagePort, handle: (req: Req) => Promise<{ ok: unknown; transfer?: ArrayBuffer[] }>): void {
  port.on('message', async (msg: { id: number; req: Req }) => {
    try {
      const { ok, transfer } = await handle(msg.req);
      port.postMessage({ id: msg.id, ok }, transfer ?? []);
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}

// The engine's handle on its model host (model-host-worker.ts): the model file is read and
// decoded there, once, and everything the main thread learns about the graph arrives as plain
// data. See the worker for what it keeps.
import type { BendSpec, HostReply, HostRequest } from './protocol.ts';
import type { ImageLayout } from '../onnx/rewrite.ts';
import type { ModelInfo } from '../onnx/model-info.ts';
import type { Layer } from '../onnx/layer-tree.ts';
import { WorkerRpc } from './worker-rpc.ts';
import type { WFinding } from '../latent/w-split.ts';

type Of<K extends HostReply['kind']> = Extract<HostReply, { kind: K }>;

export class ModelHost {
  private readonly rpc = new WorkerRpc<HostRequest>(new URL('./model-host-worker.ts', import.meta.url));

  private constructor() {}

  /** Reads and decodes `file` in the host's thread; a bad file closes the host and throws. */
  static async open(file: string): Promise<{ host: ModelHost; info: ModelInfo; layers: Layer[]; w: WFinding }> {
    const host = new ModelHost();
    try {
      const { info, layers, w } = await host.rpc.call<Of<'opened'>>({ kind: 'open', file });
      return { host, info, layers, w };
    } catch (err) {
      await host.close();
      throw err;
    }
  }

  /** Why `file` cannot be this model's blend partner (empty: it can, and is kept for builds). */
  async partnerMismatches(file: string): Promise<string[]> {
    return (await this.rpc.call<Of<'partner'>>({ kind: 'partner', file })).mismatches;
  }

  /** The encoded graphs of a session exposing `taps` and computing `bend`. */
  async build(image: ImageLayout | undefined, taps: string[], bend: BendSpec | undefined, latent = false): Promise<{ plain: Uint8Array; live: Uint8Array | undefined }> {
    const { plain, live } = await this.rpc.call<Of<'built'>>({ kind: 'build', image, taps, bend, latent });
    return { plain, live };
  }

  /** W space: the mapping network alone (z -> ws), encoded. */
  async mapping(): Promise<Uint8Array> {
    return (await this.rpc.call<Of<'mapping'>>({ kind: 'mapping' })).graph;
  }

  async close(): Promise<void> {
    await this.rpc.terminate();
  }
}

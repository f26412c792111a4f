// Collects a layer's activations off the frame path and turns them into channel groups, once per
// layer per model. The model runs in a session worker of its own (a ModelRunner beside the one
// playing), fed seeded gaussian noise, one seed per sample; the maths runs in another worker
// (channel-groups-worker.ts); both are closed when the layer is done, so the frame loop never
// waits on either and nothing stays alive between layers.
import { gaussianArray } from '../../core/seeded-random.ts';
import type { ModelHost } from '../inference/model-host.ts';
import { ModelRunner } from '../inference/model-runner.ts';
import type { EpChoice, RunReply, TensorMsg } from '../inference/protocol.ts';
import { WorkerRpc } from '../inference/worker-rpc.ts';
import type { Layer, LayerTree } from '../onnx/layer-tree.ts';
import type { TensorInfo } from '../onnx/model-info.ts';
import { fitShape } from '../sources/bind.ts';
import type { ChannelGroupOptions, ChannelGroups } from './channel-groups.ts';
import type { GroupsRequest } from './channel-groups-worker.ts';

/** What sampling needs of a model the engine already has open. */
export interface SampledModel {
  host: ModelHost;
  tree: LayerTree;
  /** The model's inputs (ModelInfo.inputs): each is fed gaussian noise of its shape. */
  inputs: readonly TensorInfo[];
  ep: EpChoice;
}

/** The layer behind `name` when it hands on a [1, C, H, W] tensor; otherwise an error saying why not. */
export function groupableLayer(tree: LayerTree, name: string): Layer & { output: string } {
  const layer = tree.resolve(name);
  if (!layer.output) throw new Error(`layer ${layer.path} has no output tensor, so its channels cannot be grouped`);
  const shape = layer.outputShape;
  if (shape && (shape.length !== 4 || (typeof shape[0] === 'number' && shape[0] !== 1))) {
    throw new Error(`layer ${layer.path} hands on [${shape.join(', ')}], not a [1, C, H, W] feature map, so it has no channel maps to group`);
  }
  return layer as Layer & { output: string };
}

/** Seed of input `j` of sample `i`: inputs of one sample differ, and sample i of seed s is sample 0 of seed s + i. */
const inputSeed = (seed: number, i: number, j: number) => (seed + i + j * 0x10000) >>> 0;

function noise(dims: readonly number[], seed: number): TensorMsg {
  const size = dims.reduce((a, b) => a * b, 1);
  return { data: gaussianArray(size, seed), dims: [...dims] };
}

/**
 * `count` samples of each of `layers`' outputs (by layer path), sample i run from seed `seed + i`,
 * all layers from one run. The session starts on first use and is closed when the iteration ends,
 * early or not; the next run is already on its way while the caller handles a sample.
 */
export async function* activationSamples(model: SampledModel, layers: readonly string[], count: number, seed: number): AsyncGenerator<Record<string, TensorMsg>> {
  const targets = layers.map((l) => groupableLayer(model.tree, l));
  const fetch = [...new Set(targets.map((t) => t.output))];
  const shapes = model.inputs.map((input) => fitShape(input.name, input.shape, input.dtype).dims);
  const feeds = (i: number) => Object.fromEntries(model.inputs.map((input, j) => [input.name, noise(shapes[j]!, inputSeed(seed, i, j))]));
  const runner = ModelRunner.spawn();
  let next: Promise<RunReply> | undefined;
  try {
    const graphs = await model.host.build(undefined, fetch, undefined);
    await runner.load({ kind: 'load', ...graphs, ep: model.ep, image: undefined, bend: undefined, weightDims: {}, warmup: feeds(0) });
    const run = (i: number) => runner.run({ kind: 'run', feeds: feeds(i), fetch, range: undefined, amounts: undefined, lead: 0 });
    next = count > 0 ? run(0) : undefined;
    for (let i = 0; i < count; i++) {
      const reply = await next!;
      next = i + 1 < count ? run(i + 1) : undefined;
      const out: Record<string, TensorMsg> = {};
      for (const target of targets) {
        const t = reply.tensors[target.output];
        if (!t) throw new Error(`layer ${target.path}: the session returned no ${target.output}`);
        if (t.dims.length !== 4 || t.dims[0] !== 1) throw new Error(`layer ${target.path} hands on [${t.dims.join(', ')}], not a [1, C, H, W] feature map, so it has no channel maps to group`);
        // Layers that share an output tensor share its buffer too: copy for the second, whose buffer may be moved.
        out[target.path] = Object.values(out).some((o) => o.data === t.data) ? { data: t.data.slice(), dims: t.dims } : t;
      }
      yield out;
    }
  } finally {
    // A run still under way when the caller stops is dropped with the session.
    next?.catch(() => {});
    await runner.close();
  }
}

export interface ChannelGroupCacheOptions extends ChannelGroupOptions {
  /** Latents sampled per layer, from seeds `seed` to `seed + samples - 1`; default 24. */
  samples?: number;
}

/**
 * The engine's channel groups, per layer: computed off the frame path on first ask and kept for
 * the model's life. Asks for a layer still being computed share that computation; a failed one is
 * forgotten, so asking again tries again.
 */
export class ChannelGroupCache {
  private readonly groups = new Map<string, Promise<ChannelGroups>>();
  private readonly workers = new Set<WorkerRpc<GroupsRequest>>();
  private closing: Promise<void> | undefined;
  private sampledLayers = 0;

  constructor(
    private readonly model: SampledModel,
    private readonly opts: ChannelGroupCacheOptions = {},
  ) {}

  /** Layers sampled so far (each at most once while its groups are kept). */
  get sampled(): number {
    return this.sampledLayers;
  }

  /** `layer` (a path or short name, see LayerTree.resolve) must hand on a [1, C, H, W] tensor. */
  get(layer: string): Promise<ChannelGroups> {
    if (this.closing) return Promise.reject(new Error('channel groups: the cache is disposed'));
    let path: string;
    try {
      path = groupableLayer(this.model.tree, layer).path;
    } catch (err) {
      return Promise.reject(err);
    }
    let kept = this.groups.get(path);
    if (!kept) {
      kept = this.compute(path);
      this.groups.set(path, kept);
      kept.catch(() => this.groups.get(path) === kept && this.groups.delete(path));
    }
    return kept;
  }

  private async compute(path: string): Promise<ChannelGroups> {
    this.sampledLayers++;
    const count = this.opts.samples ?? 24;
    const worker = new WorkerRpc<GroupsRequest>(new URL('./channel-groups-worker.ts', import.meta.url));
    this.workers.add(worker);
    try {
      // Pooling sample i in the worker overlaps running sample i + 1 in the session.
      for await (const sample of activationSamples(this.model, [path], count, this.opts.seed ?? 0)) {
        const t = sample[path]!;
        await worker.call({ kind: 'add', data: t.data, dims: t.dims, count }, [t.data.buffer as ArrayBuffer]);
      }
      const { clusters, components, seed, restarts } = this.opts;
      return await worker.call<ChannelGroups>({ kind: 'groups', opts: { clusters, components, seed, restarts } });
    } catch (err) {
      if (this.closing) throw new Error(`channel groups: the cache was disposed while grouping ${path}`, { cause: err });
      throw err;
    } finally {
      this.workers.delete(worker);
      await worker.terminate();
    }
  }

  /** Stops computations under way (their asks reject) and forgets every layer's groups. */
  dispose(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.workers].map((w) => w.terminate()));
      await Promise.allSettled([...this.groups.values()]);
      this.groups.clear();
    })();
    return this.closing;
  }
}

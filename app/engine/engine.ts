// The composition root of the model side: one model, its sources, its bends and its taps, all read
// from the parameter registry once per frame. Slow work happens in workers and is swapped in: the
// model host reads and decodes the file once and builds each session's graphs, runners load them;
// render() only fills small buffers and waits for the runner.

import { Emitter } from '../core/emitter.ts';
import { ParameterRegistry, ParamRefused, type ParamSpec } from '../core/registry.ts';
import { canonicalPath } from './onnx/model-file.ts';
import type { ModelInfo } from './onnx/model-info.ts';
import { LayerTree } from './onnx/layer-tree.ts';
import type { ImageLayout } from './onnx/rewrite.ts';
import { findImageOutput } from './image-output.ts';
import { ModelRunner } from './inference/model-runner.ts';
import { ModelHost } from './inference/model-host.ts';
import type { BendSpec, EpChoice, EpName, TensorMsg, ValueRange } from './inference/protocol.ts';
import type { FrameTime } from './clock.ts';
import { RGBA_LEAD_BYTES, type Frame } from './frame.ts';
import { chooseSource, fitShape } from './sources/bind.ts';
import { SKETCH_CELLS, SketchInput } from './sources/sketch.ts';
import type { RgbaImage } from './sources/image-file.ts';
import type { InputSource } from './sources/source.ts';
import { BendPlan, type EditTarget } from './bend/bend-plan.ts';
import { FiniteGuard, locateNonFinite } from './finite-guard.ts';
import type { EditOp } from './bend/edit-ops.ts';
import type { FeatureOp } from './bend/feature-ops.ts';
import { ChannelGroupCache } from './bend/channel-sampler.ts';
import type { ChannelGroups } from './bend/channel-groups.ts';
import { LatentPlan, type LatentPlanOptions } from './latent/latent-plan.ts';
import type { WFinding } from './latent/w-split.ts';
import type { LatentFrame } from './latent/latent-feeds.ts';
import { keyframeData, type Keyframe, type KeyframeData, type KeyframeLoop } from './sources/keyframe-loop.ts';

export interface EngineOptions {
  model: string;
  ep?: EpChoice;
  seed?: number;
  /** Per input name, a source kind overriding the default chosen by shape. */
  sources?: Record<string, string>;
  /**
   * true: a `sources` kind that does not fit its input's shape here is skipped with a warning and
   * the input plays what its shape picks (the show's choices carried over a model switch); false
   * (default): it is an error.
   */
  sourcesWhereFit?: boolean;
  registry?: ParameterRegistry;
  /** Address root of this engine's parameters; a second net (a controller) gets its own. */
  namespace?: string;
  /**
   * Whether render() advances the registry's smoothing (default true). A second net sharing the
   * registry (a controller) says false, so glides tick once per frame, not once per net.
   */
  smoothing?: boolean;
  /** Removing an edit builds a session without it (default true); false: sessions change only when asked (rebuild). */
  compact?: boolean;
  /** W space estimation (samples, directions; see LatentPlan). */
  latent?: LatentPlanOptions;
}

export interface EngineStructure {
  model: string;
  partner: string | null;
  /** The edits the playing session holds; retired ones were removed since and run at identity. */
  edits: Array<{ name: string; target: string; op: EditOp; seed: number; channels?: number[]; retired: boolean }>;
  /** The feature-map ops the playing session holds, in order; retired ones are bypassed. */
  bends: Array<{ name: string; layer: string; op: FeatureOp; retired: boolean }>;
  blendLayers: string[];
}

interface BoundSource {
  input: string;
  source: InputSource<Record<string, unknown>>;
  buffer: Float32Array;
  dims: number[];
  /** registry address -> key in source.params */
  params: Array<[string, string]>;
  /** Image inputs: the sketch pad's picture, fed instead while `<root>/sketch` is on. */
  sketch?: { input: SketchInput; address: string };
  /** Sources with events (a keyframe loop): the root their `pulse`, `loopEnd` and `keyframe` parameters live under. */
  pulse?: string;
}

export interface SideModel {
  host: ModelHost;
  image: ImageLayout | undefined;
  ep: EpChoice;
  range: ValueRange | undefined;
  inputs: Array<{ input: string; dims: number[]; buffer: Float32Array; source: InputSource<Record<string, unknown>> }>;
}

const RANGES = ['auto', '-1..1', '0..1', '0..255'] as const;
/** A model output routed on must be a sane number; a NaN or 1e30 from a diverged net is refused. */
const OUTPUT_LIMIT = [-1e9, 1e9] as const;

export class Engine extends Emitter<{
  warning: string;
  swapped: { ep: EpName; edits: number; bends: number };
  /** A layer's channel groups arrived: `cluster:` and `pc:` selections on it now mean channels. */
  grouped: { layer: string };
}> {
  readonly params: ParameterRegistry;
  readonly file: string;
  readonly info: ModelInfo;
  readonly tree: LayerTree;
  readonly image: ImageLayout | undefined;
  readonly bend: BendPlan;
  ep: EpName;
  private runner: ModelRunner;
  private readonly host: ModelHost;
  private detectedRange: ValueRange | undefined;
  private readonly sources: BoundSource[];
  private readonly taps = new Set<string>();
  /** The bends the current session is built for. */
  private sessionBend: BendSpec | undefined;
  /** Tensors the current session exposes; grows when a new layer is tapped (never per frame). */
  private sessionTaps = new Set<string>();
  private swapping: Promise<void> | undefined;
  private inflight: Promise<unknown> = Promise.resolve();
  private readonly numericOutputs: string[];
  private readonly epChoice: EpChoice;
  readonly ns: string;
  private readonly smoothing: boolean;
  /** Whether removing an edit builds a session without it (live); a take's re-render says when. */
  private readonly compact: boolean;
  private forceBuild = false;
  /** Channel groups per layer (for `cluster:` and `pc:`), found off the frame path on first use. */
  private readonly groupCache: ChannelGroupCache;
  private readonly groups = new Map<string, ChannelGroups>();
  private readonly grouping = new Map<string, Promise<void>>();
  private closing = false;
  /** Non-finite frames: counted, reported once per incident, the last good picture held. */
  private readonly finite: FiniteGuard;
  /** W space (truncation, style mixing, directions) on graphs with a mapping/synthesis split. */
  readonly latent: LatentPlan;
  /** Whether the current session's live graph takes a shaped ws. */
  private sessionLatent = false;
  /** The mix latent's own sources (a copy of each mapping input's source, at the mix seed). */
  private readonly mixSources = new Map<string, { source: InputSource<Record<string, unknown>>; buffer: Float32Array }>();
  /** The keyframe lists as JSON, and the arrays they were made from (a list replaced is seen). */
  private keyframeState: { from: Keyframe[][]; lists: Record<string, KeyframeData[]> } | undefined;
  /** The held latents as JSON, and what they were made from (a new hold is seen). */
  private heldState: { from: Array<ArrayLike<number> | undefined>; lists: Record<string, number[]> } | undefined;

  private constructor(
    opts: EngineOptions,
    params: ParameterRegistry,
    info: ModelInfo,
    tree: LayerTree,
    image: ImageLayout | undefined,
    sources: BoundSource[],
    host: ModelHost,
    runner: ModelRunner,
    ep: EpName,
    range: ValueRange | undefined,
    w: WFinding,
  ) {
    super();
    this.file = opts.model;
    this.params = params;
    this.info = info;
    this.tree = tree;
    this.image = image;
    this.sources = sources;
    this.host = host;
    this.runner = runner;
    this.ep = ep;
    this.detectedRange = range;
    this.epChoice = opts.ep ?? 'auto';
    this.ns = opts.namespace ?? '/netbend';
    this.smoothing = opts.smoothing ?? true;
    this.compact = opts.compact ?? true;
    this.numericOutputs = info.outputs.filter((o) => o.name !== image?.output).map((o) => o.name);
    this.groupCache = new ChannelGroupCache({ host, tree, inputs: info.inputs, ep: this.epChoice });
    this.bend = new BendPlan(
      tree,
      info.weights.map((w) => w.name),
      params,
      (layer) => this.channelGroups(layer),
    );
    this.latent = new LatentPlan(params, this.ns, w, opts.latent);
    this.finite = new FiniteGuard(
      tree,
      image?.output,
      (inputs) => locateNonFinite(host, tree, image, this.ep, inputs),
      (w) => this.emit('warning', w),
    );
  }

  static async open(opts: EngineOptions): Promise<{ engine: Engine; warnings: string[] }> {
    const file = canonicalPath(opts.model);
    // The runner's worker boots while the host decodes the file.
    const runner = ModelRunner.spawn();
    let host: ModelHost | undefined;
    try {
      const opened = await ModelHost.open(file);
      host = opened.host;
      const { info } = opened;
      const tree = new LayerTree(opened.layers);
      const image = findImageOutput(info.outputs);
      const params = opts.registry ?? new ParameterRegistry();
      let sources: BoundSource[];
      const skipped: string[] = [];
      try {
        sources = info.inputs.map((input) => {
          const bind = (kind: string | undefined) => bindSource(params, `${opts.namespace ?? '/netbend'}/source/${input.name}`, input.name, input.shape, input.dtype, kind, opts.seed);
          const kind = opts.sources?.[input.name];
          if (kind === undefined || !opts.sourcesWhereFit) return bind(kind);
          try {
            return bind(kind);
          } catch (err) {
            // chooseSource refuses before it defines anything: the default binds cleanly.
            skipped.push(`${file}: the source ${input.name}=${kind} does not fit here (${(err as Error).message}); ${input.name} plays the source its shape picks`);
            return bind(undefined);
          }
        });
      } catch (err) {
        throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const warmup = Object.fromEntries(sources.map((s) => [s.input, fillSource(s, params, { index: 0, time: 0, dt: 0 })]));
      const graphs = await host.build(image, [], undefined);
      const loaded = await runner.load({ kind: 'load', ...graphs, ep: opts.ep ?? 'auto', image, bend: undefined, weightDims: {}, warmup });
      params.define({ address: `${opts.namespace ?? '/netbend'}/output/range`, type: 'enum', options: RANGES, default: 'auto', description: 'value range of the model image output' });
      const engine = new Engine({ ...opts, model: file }, params, info, tree, image, sources, host, runner, loaded.ep, loaded.range, opened.w);
      engine.defineOutputParams();
      return { engine, warnings: [...skipped, ...loaded.warnings, ...(engine.latent.note ? [engine.latent.note] : [])] };
    } catch (err) {
      await Promise.all([runner.close(), host?.close()]);
      throw err;
    }
  }

  get range(): ValueRange | undefined {
    const r = this.params.get(`${this.ns}/output/range`);
    return r === 'auto' ? this.detectedRange : (r as ValueRange);
  }

  /** Layers whose tensors come with each frame; only requested taps are fetched. */
  /**
   * Exposing a tensor as an output costs the session some memory reuse, so only tapped layers are
   * exposed: a new tap starts a session with it beside the playing one and swaps it in, and its
   * tensors arrive from then on.
   */
  setTaps(layers: string[]): void {
    const paths = layers.map((l) => this.tree.resolve(l));
    for (const l of paths) if (!l.output) throw new Error(`layer ${l.path} has no output tensor to tap`);
    this.taps.clear();
    for (const l of paths) this.taps.add(l.path);
    void this.reconfigure();
  }

  tapped(): string[] {
    return [...this.taps];
  }

  /** Adds an edit slot (see BendPlan.addEdit); returns its name. */
  addEdit(target: string, op: EditOp, amount: number, extra: Partial<EditTarget> & { name?: string } = {}): string {
    const name = this.bend.addEdit(target, op, amount, extra);
    void this.reconfigure();
    return name;
  }

  /**
   * Adds a feature-map op after a layer's output (see FeaturePlan.add); returns its slot name. The
   * session with it builds beside the playing one; its values are live from then on.
   */
  addBend(layer: string, op: string, values: Record<string, unknown> = {}, name?: string): string {
    const slot = this.bend.features.add(layer, op, values, name);
    void this.reconfigure();
    return slot;
  }

  removeBend(name: string): void {
    this.bend.features.remove(name);
    if (this.compact) void this.reconfigure();
  }

  /** Moves a feature-map op to another place in the order they apply. */
  moveBend(name: string, index: number): void {
    this.bend.features.move(name, index);
    void this.reconfigure();
  }

  /** Loads a blend partner off the frame path; refuses (throws) with a list of mismatches. */
  async loadPartner(file: string | undefined): Promise<void> {
    const path = file ? canonicalPath(file) : undefined;
    if (path) {
      // Validate against every weight before the session swap, so a bad partner changes nothing.
      const mismatches = await this.host.partnerMismatches(path);
      if (mismatches.length)
        // One line first (what a page shows), then the list (details on demand, and the CLI's stderr).
        throw new Error(
          `blend partner ${path} does not match ${this.file}: ${mismatches.length} of ${this.info.weights.length} weights differ\n  ${mismatches.slice(0, 20).join('\n  ')}${mismatches.length > 20 ? `\n  ... and ${mismatches.length - 20} more` : ''}`,
        );
    }
    this.bend.partner = path;
    // Blend amounts exist while there is something to blend toward (mappings to them sleep meanwhile).
    if (path) this.bend.defineBlendParams();
    else this.bend.dropBlendParams();
    await this.reconfigure();
  }

  /**
   * What the next frame renders with: the partner and the edit slots its session serves (an edit
   * whose session is still being built is not in it yet), and the layers with their own blend
   * amount. Takes log this, so a re-render swaps structure in at the same frame as the show did.
   */
  structure(): EngineStructure {
    const session = this.sessionBend;
    const partner = this.bend.partner && session?.partnerFile === this.bend.partner ? this.bend.partner : null;
    // Without a bend in place the untouched session plays, whatever the last bent one held.
    const bent = this.bend.spec() !== undefined;
    const edits = bent ? this.bend.editsIn(session?.edits.map((e) => e.id) ?? []) : [];
    const bends = bent ? this.bend.features.slotsIn(session?.features.map((f) => f.id) ?? []) : [];
    return { model: this.file, partner, edits, bends, blendLayers: partner ? Object.keys(this.bend.blendAmounts()).filter((l) => l !== 'all') : [] };
  }

  /** Removes an edit slot; a live engine then builds a session without it (see `compact`). */
  removeEdit(name: string): void {
    this.bend.removeEdit(name);
    if (this.compact) void this.reconfigure();
  }

  /** Every edit removed and every blend back to 0: the original weights, exactly. */
  restoreOriginals(): void {
    this.bend.restore();
    if (this.compact) void this.reconfigure();
  }

  /** Builds a session for exactly the bends in place now, whatever the playing one holds (a take's re-render). */
  rebuild(): Promise<void> {
    this.forceBuild = true;
    return this.reconfigure();
  }

  /** Resolves once any pending session swap is in, and channel groups being found (tests and headless renders wait). */
  async settled(): Promise<void> {
    this.latentSession();
    await this.latent.ready;
    while (this.swapping || this.grouping.size) {
      await this.swapping;
      await Promise.all(this.grouping.values());
    }
  }

  /**
   * A layer's channel groups if found, else undefined: the first ask starts finding them (sampled
   * latents in a worker), and `grouped` says when they are in. A failure is said once per ask.
   */
  channelGroups(layer: string): ChannelGroups | undefined {
    const known = this.groups.get(layer);
    if (known || this.grouping.has(layer)) return known;
    const p = this.groupCache.get(layer).then(
      (g) => {
        this.groups.set(layer, g);
        this.emit('grouped', { layer });
      },
      (err: Error) => {
        if (!this.closing) this.emit('warning', `channel groups of ${layer}: ${err.message}`);
      },
    );
    this.grouping.set(
      layer,
      p.finally(() => this.grouping.delete(layer)),
    );
    return undefined;
  }

  /**
   * Starts a session for the bends and taps now wanted when the current one cannot serve them (a
   * new edit, a new partner, a new tap), beside the playing one, and swaps it in when ready. Amount
   * changes and removed edits never come here.
   */
  private reconfigure(): Promise<void> {
    if (this.serves(this.bend.spec(), new Set(this.tapOutputs()))) return Promise.resolve();
    const run = async () => {
      await this.swapping?.catch(() => {});
      const bend = this.bend.spec();
      const taps = new Set([...this.sessionTaps, ...this.tapOutputs()]);
      if (this.serves(bend, taps)) return;
      const warmup = Object.fromEntries(this.sources.map((s) => [s.input, { data: s.buffer.slice(), dims: s.dims }]));
      this.forceBuild = false;
      const runner = ModelRunner.spawn();
      const latent = this.latent.wanted;
      const graphs = await this.host.build(this.image, [...taps], bend, latent).catch(async (err: unknown) => {
        await runner.close();
        throw err;
      });
      const info = await runner.load({
        kind: 'load',
        ...graphs,
        ep: this.epChoice,
        image: this.image,
        bend,
        weightDims: this.weightDims(bend),
        warmup,
        latent: latent ? this.latent.shape : undefined,
      });
      const old = this.runner;
      this.sessionLatent = latent;
      this.runner = runner;
      this.sessionBend = bend;
      this.sessionTaps = taps;
      this.bend.forgetRetired(bend?.edits.map((e) => e.id) ?? []);
      this.bend.features.forgetRetired(bend?.features.map((f) => f.id) ?? []);
      this.ep = info.ep;
      info.warnings.forEach((w) => this.emit('warning', w));
      this.emit('swapped', { ep: info.ep, edits: bend?.edits.length ?? 0, bends: bend?.features.length ?? 0 });
      // A frame may still be running on the old session; it finishes before the worker goes.
      await this.inflight.catch(() => {});
      await old.close();
    };
    const p = run().finally(() => {
      if (this.swapping === p) this.swapping = undefined;
    });
    this.swapping = p;
    p.catch((err) => this.emit('warning', String(err instanceof Error ? err.message : err)));
    return p;
  }

  /**
   * Whether the current session has every wanted edit, the wanted partner and every tap, and (on a
   * compacting engine) no edit removed since: an edit at its identity amount is computed in the
   * graph, which onnxruntime optimises differently from a constant weight, so only a session
   * without it gives the frames a scene without it gave (undo, presets, takes are exact).
   */
  private serves(bend: BendSpec | undefined, taps: Set<string>): boolean {
    if (this.forceBuild) return false;
    if (this.latent.wanted && !this.sessionLatent) return false;
    const have = this.sessionBend;
    if ([...taps].some((t) => !this.sessionTaps.has(t))) return false;
    if (!bend) return true;
    if (!have || have.partnerFile !== bend.partnerFile) return false;
    const ids = new Set(have.edits.map((e) => e.id));
    const features = have.features.map((f) => f.id);
    if (this.compact && (this.bend.holdsRetired([...ids]) || this.bend.features.holdsRetired(features))) return false;
    // Feature ops apply in order: the session must hold exactly these, in this order.
    if (bend.features.map((f) => f.id).join() !== features.filter((id) => !this.bend.features.holdsRetired([id])).join()) return false;
    return bend.edits.every((e) => ids.has(e.id));
  }

  /** Shapes of the weights `bend`'s edits touch. */
  private weightDims(bend: BendSpec | undefined): Record<string, number[]> {
    const touched = new Set(bend?.edits.flatMap((e) => e.weights));
    return Object.fromEntries(this.info.weights.filter((w) => touched.has(w.name)).map((w) => [w.name, w.shape]));
  }

  private tapOutputs(): string[] {
    return [...this.taps].map((l) => this.tree.resolve(l).output!);
  }

  async render(t: FrameTime): Promise<Frame> {
    const t0 = performance.now();
    if (this.smoothing) this.params.tick(t.dt);
    const feeds: Record<string, TensorMsg> = {};
    for (const s of this.sources) feeds[s.input] = fillSource(s, this.params, t);
    const tapLayers = [...this.taps].filter((l) => this.sessionTaps.has(this.tree.resolve(l).output!));
    const fetch = [...this.numericOutputs, ...tapLayers.map((l) => this.tree.resolve(l).output!)];
    const amounts = this.sessionBend ? this.bend.amounts(this.sessionBend) : undefined;
    this.latentSession();
    const latent = this.sessionLatent ? this.latent.frame((seed) => this.mixFeeds(seed, t)) : undefined;
    const running = this.runner.run({ kind: 'run', feeds, fetch, range: this.range, amounts, lead: RGBA_LEAD_BYTES, latent });
    this.inflight = running;
    const reply = await running;
    // A NaN or Inf anywhere: the last good picture instead, counted, and one warning per incident.
    const rgba = this.finite.check(t.index, reply.rgba, reply.nonFinite, () => ({
      feeds: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v.data.slice(), dims: v.dims }])),
      amounts,
      range: this.range,
      bend: this.sessionBend,
      weightDims: this.weightDims(this.sessionBend),
      // W space as played (the mix latent's inputs copied: their buffers refill every frame).
      ...(latent && this.latent.shape
        ? {
            latent: {
              shape: this.latent.shape,
              frame: { ...latent, ...(latent.z2 ? { z2: Object.fromEntries(Object.entries(latent.z2).map(([k, v]) => [k, { data: v.data.slice(), dims: v.dims }])) } : {}) },
            },
          }
        : {}),
    }));
    const taps: Record<string, TensorMsg> = {};
    for (const l of tapLayers) taps[l] = reply.tensors[this.tree.resolve(l).output!]!;
    const values: Record<string, number[]> = {};
    for (const name of this.numericOutputs) {
      const v = Array.from(reply.tensors[name]!.data);
      values[name] = v;
      v.forEach((x, i) => {
        const address = `${this.ns}/outputs/${name}/${i}`;
        if (!this.params.has(address)) return;
        try {
          this.params.set(address, x, 'engine');
        } catch (err) {
          // NaN or a huge value from the net: refused and counted by the registry, the last good one holds.
          if (!(err instanceof ParamRefused)) throw err;
        }
      });
    }
    return {
      index: t.index,
      time: t.time,
      width: this.image?.width ?? 0,
      height: this.image?.height ?? 0,
      rgba,
      taps,
      values,
      stats: { inferMs: reply.inferMs, bendMs: reply.bendMs, frameMs: performance.now() - t0, nonFinite: this.finite.count },
    };
  }

  async close(): Promise<void> {
    await this.swapping?.catch(() => {});
    // A frame still running finishes before its session goes.
    await this.inflight.catch(() => {});
    await this.finite.settled();
    await this.latent.ready;
    this.closing = true;
    this.bend.dispose();
    await this.groupCache.dispose();
    await Promise.all([this.runner.close(), this.host.close()]);
  }

  /** What a side renderer (the seed grid) works from: the host, the image layout, the ep, and each input's source and buffer as fed now. */
  side(): SideModel {
    return { host: this.host, image: this.image, ep: this.epChoice, range: this.range, inputs: this.sources.map((s) => ({ input: s.input, dims: s.dims, buffer: s.buffer, source: s.source })) };
  }

  /** Image inputs the sketch pad can feed. */
  sketchInputs(): Array<{ input: string; width: number; height: number; channels: number }> {
    return this.sources.flatMap((s) => {
      if (!s.sketch) return [];
      const [, a, b, c] = s.dims as [number, number, number, number];
      const [C, H, W] = s.sketch.input.layout === 'nchw' ? [a, b, c] : [c, a, b];
      return [{ input: s.input, width: W, height: H, channels: C }];
    });
  }

  /**
   * A new sketch for an image input (fed while its sketch switch is on); its grey grid becomes the
   * read-only parameters `<ns>/sketch/<input>/<i>` (0..1), for regression nets to take.
   */
  setSketch(input: string, img: RgbaImage): void {
    const s = this.sources.find((x) => x.input === input);
    if (!s?.sketch)
      throw new Error(
        `no image input "${input}" to sketch into (image inputs: ${
          this.sketchInputs()
            .map((x) => x.input)
            .join(', ') || 'none'
        })`,
      );
    const grid = s.sketch.input.take(img);
    grid.forEach((v, i) => {
      const address = `${this.ns}/sketch/${input}/${i}`;
      if (!this.params.has(address))
        this.params.define({ address, type: 'float', default: 0, min: 0, max: 1, readOnly: true, description: `sketch of ${input}: grey of cell ${i % SKETCH_CELLS},${Math.floor(i / SKETCH_CELLS)}` });
      this.params.set(address, v, 'engine');
    });
  }

  /** The keyframe loops, by input. */
  private loops(): Array<{ input: string; loop: KeyframeLoop }> {
    return this.sources.flatMap((s) => (s.source.kind === 'keyframes' ? [{ input: s.input, loop: s.source as unknown as KeyframeLoop }] : []));
  }

  /** Inputs a keyframe loop feeds. */
  keyframeInputs(): string[] {
    return this.loops().map((l) => l.input);
  }

  /**
   * Each keyframe loop's keyframes as JSON (presets, takes, undo). The same object until a list is
   * replaced, so a take can see a change by identity, once per frame, for nothing.
   */
  keyframes(): Record<string, KeyframeData[]> {
    const loops = this.loops();
    const st = this.keyframeState;
    if (st && st.from.length === loops.length && loops.every((l, i) => st.from[i] === l.loop.params.keyframes)) return st.lists;
    const lists = Object.fromEntries(loops.map((l) => [l.input, l.loop.params.keyframes.map(keyframeData)]));
    this.keyframeState = { from: loops.map((l) => l.loop.params.keyframes), lists };
    return lists;
  }

  /**
   * The latent each keyframe loop holds while it has no keyframes (a seed grid cell around the
   * current one jumped to), by input; loops holding their seed are absent. The same object until
   * a hold changes (a take compares it by identity every frame).
   */
  held(): Record<string, number[]> {
    const loops = this.loops();
    const st = this.heldState;
    if (st && st.from.length === loops.length && loops.every((l, i) => st.from[i] === l.loop.params.hold)) return st.lists;
    const lists = Object.fromEntries(loops.flatMap((l) => (l.loop.params.hold ? [[l.input, Array.from(l.loop.params.hold)]] : [])));
    this.heldState = { from: loops.map((l) => l.loop.params.hold), lists };
    return lists;
  }

  /** Checks held latents as checkKeyframes does lists: a wrong length throws, an input no loop feeds is a warning. */
  checkHeld(held: Record<string, readonly number[]>): string[] {
    const warnings: string[] = [];
    for (const [input, latent] of Object.entries(held)) {
      const loop = this.loops().find((l) => l.input === input)?.loop;
      if (!loop) warnings.push(`the latent held on ${input} not applied: ${this.sources.some((s) => s.input === input) ? 'it plays no keyframe loop' : 'no such input'}`);
      else if (latent.length !== loop.length) throw new Error(`held latent of ${input}: ${latent.length} values, the input takes ${loop.length}`);
    }
    return warnings;
  }

  /** Holds a latent on a keyframe loop (played while it has no keyframes); undefined: it holds its seed. */
  setHeld(input: string, latent: ArrayLike<number> | undefined): void {
    const loop = this.loops().find((l) => l.input === input)?.loop;
    if (!loop) throw new Error(`no keyframe loop on input "${input}" (inputs fed by one: ${this.keyframeInputs().join(', ') || 'none'})`);
    if (latent && latent.length !== loop.length) throw new Error(`held latent of ${input}: ${latent.length} values, the input takes ${loop.length}`);
    loop.params.hold = latent ? Float32Array.from(latent) : undefined;
  }

  /**
   * Checks keyframe lists against this engine's loops before anything changes: a latent of the
   * wrong length is refused; lists for inputs no loop feeds come back as warnings.
   */
  checkKeyframes(lists: Record<string, readonly KeyframeData[]>): string[] {
    const warnings: string[] = [];
    for (const [input, list] of Object.entries(lists)) {
      const loop = this.loops().find((l) => l.input === input)?.loop;
      if (!loop) {
        if (list.length)
          warnings.push(
            `keyframes for ${input} not applied: ${this.sources.some((s) => s.input === input) ? `it plays a ${this.sources.find((s) => s.input === input)!.source.kind} source, not a keyframe loop` : 'no such input'}`,
          );
        continue;
      }
      list.forEach((k, i) => {
        if (k.latent && k.latent.length !== loop.length) throw new Error(`keyframes of ${input}: keyframe ${i} has a latent of ${k.latent.length} values, the input takes ${loop.length}`);
      });
    }
    return warnings;
  }

  /** Replaces a keyframe loop's keyframes (checked as checkKeyframes does). */
  setKeyframes(input: string, list: readonly (Keyframe | KeyframeData)[]): void {
    const loop = this.loops().find((l) => l.input === input)?.loop;
    if (!loop) throw new Error(`no keyframe loop on input "${input}" (inputs fed by one: ${this.keyframeInputs().join(', ') || 'none'})`);
    this.checkKeyframes({ [input]: list.map((k) => ({ ...k, latent: k.latent ? Array.from(k.latent) : undefined })) });
    loop.params.keyframes = list.map((k) => ({ ...k, ...(k.latent ? { latent: Float32Array.from(k.latent) } : {}) }));
  }

  /**
   * This moment's W space as a frame of its own (a side renderer's: the seed grid), the mix
   * latent's inputs copied; undefined at identity or before w_avg is estimated.
   */
  latentFrame(t: FrameTime): LatentFrame | undefined {
    return this.latent.frame((seed) => Object.fromEntries(Object.entries(this.mixFeeds(seed, t)).map(([k, v]) => [k, { data: v.data.slice(), dims: v.dims.slice() }])));
  }

  /** W space first leaves identity: from now on sessions carry the latent graph (built beside the playing one). */
  private latentSession(): void {
    if (this.latent.wanted || !this.latent.active()) return;
    this.latent.wanted = true;
    void this.estimateLatent();
    void this.reconfigure();
  }

  /** Estimates w_avg and the principal directions (once; on first use, not for every model opened). */
  estimateLatent(): Promise<void> {
    const started = this.latent.started;
    const ready = this.latent.prepare(this.host, this.epChoice, Object.fromEntries(this.sources.map((s) => [s.input, s.dims])));
    if (!started)
      void ready.then(() => {
        if (this.latent.error && !this.closing) this.emit('warning', this.latent.error);
      });
    return ready;
  }

  /** The mix latent's inputs this frame: each mapping input's source, copied, at the mix seed. */
  private mixFeeds(seed: number, t: FrameTime): Record<string, TensorMsg> {
    const out: Record<string, TensorMsg> = {};
    for (const name of this.latent.shape?.inputs ?? []) {
      const s = this.sources.find((x) => x.input === name)!;
      let mix = this.mixSources.get(name);
      if (!mix) {
        const input = this.info.inputs.find((i) => i.name === name)!;
        const source = chooseSource(name, input.shape, input.dtype, s.source.kind) as unknown as InputSource<Record<string, unknown>>;
        this.mixSources.set(name, (mix = { source, buffer: new Float32Array(s.buffer.length) }));
      }
      Object.assign(mix.source.params, s.source.params);
      if ('seed' in mix.source.params) mix.source.params.seed = seed;
      mix.source.fill(mix.buffer, { time: t.time, frame: t.index });
      out[name] = { data: mix.buffer, dims: s.dims };
    }
    return out;
  }

  /** Small numeric outputs (regression nets) become read-only parameters others can route. */
  private defineOutputParams(): void {
    for (const o of this.info.outputs) {
      if (o.name === this.image?.output) continue;
      const count = o.shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : 1), 1);
      if (count > 256) continue;
      for (let i = 0; i < count; i++)
        this.params.define({ address: `${this.ns}/outputs/${o.name}/${i}`, type: 'float', default: 0, readOnly: true, clamp: false, limit: OUTPUT_LIMIT, description: `output ${o.name}[${i}]` });
    }
  }
}

function bindSource(params: ParameterRegistry, root: string, input: string, shape: (number | string)[], dtype: string, override: string | undefined, seed: number | undefined): BoundSource {
  const source = chooseSource(input, shape, dtype, override) as unknown as InputSource<Record<string, unknown>>;
  const dims = source.shape.slice();
  const buffer = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const bound: BoundSource = { input, source, buffer, dims, params: [] };
  if (seed !== undefined && 'seed' in source.params) source.params.seed = seed;
  const image = fitShape(input, shape, dtype).image;
  if (image) {
    bound.sketch = { input: new SketchInput(dims, image), address: `${root}/sketch` };
    params.define({ address: bound.sketch.address, type: 'bool', default: false, description: `feed ${input} from the sketch pad` });
  }
  for (const [key, value] of Object.entries(source.params)) {
    if (typeof value !== 'number' && typeof value !== 'boolean') continue;
    const address = `${root}/${key}`;
    const spec: ParamSpec =
      typeof value === 'boolean'
        ? { address, type: 'bool', default: value }
        : { address, type: key === 'seed' || key === 'octaves' ? 'int' : 'float', default: value, clamp: false, ...SOURCE_RANGES[key] };
    params.define(spec);
    bound.params.push([address, key]);
  }
  if (source.pulse) definePulseParams(params, (bound.pulse = root), input);
  return bound;
}

/**
 * Suggested ranges for UI sliders and MIDI scaling (values outside stay legal), and the hard
 * limits beyond which a value is refused: wide enough for any performance, finite for every one.
 */
const SOURCE_RANGES: Record<string, Partial<ParamSpec>> = {
  amplitude: { min: 0, max: 3, limit: [-100, 100] },
  offset: { min: -2, max: 2, limit: [-100, 100] },
  speed: { min: -5, max: 5, unit: '1/s', limit: [-1000, 1000] },
  seed: { min: 0, max: 9999, limit: [0, 2 ** 31 - 1] },
  scale: { min: 0.1, max: 20, limit: [-1000, 1000] },
  octaves: { min: 1, max: 8, clamp: true },
  spacing: { min: 0.001, max: 1, limit: [-100, 100] },
  secondsPerSeed: { min: 0.1, max: 60, unit: 's', limit: [0.001, 86400] },
  leg: { min: 0.1, max: 32, limit: [0.001, 86400] },
  bpm: { min: 20, max: 300, unit: 'bpm', limit: [1, 1000] },
  ease: { min: 0, max: 1, clamp: true },
  glide: { min: 0, max: 10, unit: 's', limit: [0, 3600] },
};

/** A keyframe loop's events: a trigger at each keyframe and at the loop's end, and the keyframe reached. */
function definePulseParams(params: ParameterRegistry, root: string, input: string): void {
  params.define({ address: `${root}/pulse`, type: 'trigger', default: false, readOnly: true, description: `${input}: a keyframe was reached` });
  params.define({ address: `${root}/loopEnd`, type: 'trigger', default: false, readOnly: true, description: `${input}: the loop came round to its first keyframe` });
  params.define({ address: `${root}/keyframe`, type: 'int', default: 0, min: 0, max: 64, clamp: false, readOnly: true, description: `${input}: the keyframe last reached` });
}

function firePulse(params: ParameterRegistry, root: string, k: number): void {
  params.set(`${root}/keyframe`, k, 'engine');
  params.set(`${root}/pulse`, true, 'engine');
  if (k === 0) params.set(`${root}/loopEnd`, true, 'engine');
}

function fillSource(s: BoundSource, params: ParameterRegistry, t: FrameTime): TensorMsg {
  if (s.sketch && params.get(s.sketch.address) === true && s.sketch.input.fill(s.buffer)) return { data: s.buffer, dims: s.dims };
  for (const [address, key] of s.params) s.source.params[key] = params.get(address);
  s.source.fill(s.buffer, { time: t.time, frame: t.index });
  const k = s.pulse ? s.source.pulse!() : -1;
  if (k >= 0) firePulse(params, s.pulse!, k);
  return { data: s.buffer, dims: s.dims };
}

// Runs onnxruntime (through ort.ts, its one importer) in a worker thread: session creation blocks
// its thread for tens to hundreds of ms, and the engine's frame loop must not notice.
import { parentPort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from './ort.ts';
import { serveRequests } from './worker-serve.ts';
import { RGBA_BIAS, RGBA_OUTPUT, RGBA_SCALE } from '../onnx/rewrite.ts';
import { allFinite, FINITE_OUTPUT } from '../onnx/finite-check.ts';
import { blendInput, editInput, maskInput, setOnInput, type StructuralEdit } from '../bend/bend-graph.ts';
import { ablatedChannels, IDENTITY } from '../bend/edit-ops.ts';
import { featureInput, featureInputs, type StructuralFeature } from '../bend/feature-graph.ts';
import { featureFeeds } from '../bend/feature-feeds.ts';
import { isNeutral } from '../bend/feature-ops.ts';
import type { FeatureFrame } from '../bend/feature-plan.ts';
import { autoCandidates } from './ep.ts';
import { latentFeeds } from '../latent/latent-worker-feeds.ts';
import { RANGE_TRANSFORM, type BendAmounts, type EpName, type LoadReply, type LoadRequest, type Request, type RunReply, type RunRequest, type TensorMsg, type ValueRange } from './protocol.ts';

const port = parentPort!;
/**
 * Two sessions of the same graph: `plain` with the weights as they are, and `live` with the bends
 * computed in-graph. onnxruntime optimises constant weights differently from computed ones (folding,
 * packing), so the two differ in the last float bits; a frame whose bends are all at identity runs
 * on `plain`, which makes "no bend" exactly the original model, and faster too.
 */
let plain: ort.InferenceSession | undefined;
let live: ort.InferenceSession | undefined;
/** What the loaded sessions serve (not the graph bytes: those are dropped once loaded). */
let loaded: Pick<LoadRequest, 'image' | 'bend' | 'latent'> | undefined;
/** Output channels and shapes of the bent weights, for ablate masks. */
let weightDims = new Map<string, number[]>();
const scalars = new Map<string, ort.Tensor>();
const masks = new Map<string, { key: string; tensor: ort.Tensor }>();
/** Each feature-map op's host tensors, with the values they were computed from. */
const featureTensors = new Map<string, { key: string; tensors: Record<string, ort.Tensor> }>();
const rangeTensors = new Map<ValueRange, { scale: ort.Tensor; bias: ort.Tensor }>();

function bundled(ep: EpName): boolean {
  if (ep === 'cpu') return true;
  const info = ort.listSupportedBackends().find((b) => b.name === ep);
  if (!info) return false;
  if (info.bundled) return true;
  // CUDA's and TensorRT's providers come from `npm run install:cuda`; the binding finds them beside itself.
  const binding = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const lib = `onnxruntime_providers_${ep}`;
  return existsSync(join(binding, process.platform === 'win32' ? `${lib}.dll` : `lib${lib}.so`));
}

async function createSession(bytes: Uint8Array, choice: LoadRequest['ep'], warnings: string[], threads?: number): Promise<{ s: ort.InferenceSession; ep: EpName }> {
  const pool = threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const candidates: EpName[] = choice === 'auto' ? autoCandidates(bundled) : [choice];
  for (const [i, ep] of candidates.entries()) {
    if (!bundled(ep)) {
      // Asked for by name and not in this build: an error, not a silent slow show on the CPU.
      throw new Error(
        `execution provider ${ep} is not available in this onnxruntime-node build on ${process.platform}-${process.arch}${ep === 'cuda' || ep === 'tensorrt' ? ' (run `npm run install:cuda` to fetch the CUDA and TensorRT providers; TensorRT itself is installed apart)' : ''}; available: ${ort
          .listSupportedBackends()
          .filter((b) => bundled(b.name as EpName))
          .map((b) => b.name)
          .join(', ')}`,
      );
    }
    try {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3, ...pool });
      return { s, ep };
    } catch (err) {
      if (ep === 'cpu') throw err;
      warnings.push(`execution provider ${ep} failed to start (${firstLine(err)}); trying ${candidates[i + 1] ?? 'cpu'}`);
    }
  }
  return { s: await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3, ...pool }), ep: 'cpu' };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err)
    .split('\n')[0]!
    .slice(0, 200);
}

async function load(req: LoadRequest): Promise<LoadReply> {
  const warnings: string[] = [];
  const created = await createSession(req.plain, req.ep, warnings, req.threads);
  let twin: ort.InferenceSession | undefined;
  weightDims = new Map(Object.entries(req.weightDims));
  // The live twin runs on whatever provider the plain one ended up on.
  if (req.live) twin = (await createSession(req.live, created.ep, warnings, req.threads)).s;
  for (const old of [plain, live]) old?.release().catch(() => {});
  plain = created.s;
  live = twin;
  loaded = { image: req.image, bend: req.bend, latent: req.latent };
  masks.clear();
  featureTensors.clear();
  let range: ValueRange | undefined;
  if (req.image) {
    const out = await plain.run(withRange(toOrtFeeds(req.warmup), undefined), [req.image.output]);
    range = detectRange(out[req.image.output]!.data as Float32Array);
  }
  return { ep: created.ep, warnings, range, outputs: plain.outputNames.slice() };
}

/** Negative values mean a [-1,1] generator (often overshooting it); else [0,1], or 0..255 when larger. */
function detectRange(d: Float32Array): ValueRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    if (d[i]! < lo) lo = d[i]!;
    if (d[i]! > hi) hi = d[i]!;
  }
  if (lo < -0.02) return '-1..1';
  return hi > 2 ? '0..255' : '0..1';
}

function toOrtFeeds(feeds: Record<string, TensorMsg>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor('float32', t.data, t.dims);
  return out;
}

/** A frame whose every bend is at its identity amount: exactly the original model. */
function isIdentity(a: BendAmounts, edits: StructuralEdit[], features: StructuralFeature[]): boolean {
  if (Object.values(a.blend).some((t) => t !== 0)) return false;
  if (!features.every((f) => untouched(f, a.features[f.id]))) return false;
  return edits.every((e) => {
    const v = a.edits[e.id];
    if (e.op === 'set') return a.on[e.id] === 0;
    if (e.op === 'ablate') {
      const share = Math.min(1, Math.max(0, v ?? 0));
      return !a.channels[e.id]?.length && e.weights.every((w) => Math.round(share * (weightDims.get(w)?.[0] ?? 1)) === 0);
    }
    return v === undefined || v === IDENTITY[e.op];
  });
}

/** Scalars reuse one tensor per input, rewritten in place: nothing is allocated per frame. */
function scalar(name: string, v: number): ort.Tensor {
  let t = scalars.get(name);
  if (!t) scalars.set(name, (t = new ort.Tensor('float32', new Float32Array(1), [1])));
  (t.data as Float32Array)[0] = v;
  return t;
}

function withBends(feeds: Record<string, ort.Tensor>, a: BendAmounts, edits: StructuralEdit[]): void {
  for (const [w, t] of Object.entries(a.blend)) feeds[blendInput(w)] = scalar(blendInput(w), t);
  for (const e of edits) {
    const v = a.edits[e.id] ?? (e.op === 'set' ? 0 : IDENTITY[e.op]);
    feeds[editInput(e.id)] = scalar(editInput(e.id), v);
    if (e.op === 'set') feeds[setOnInput(e.id)] = scalar(setOnInput(e.id), a.on[e.id] ?? 0);
    if (e.op !== 'ablate') continue;
    for (const w of e.weights) {
      const dims = weightDims.get(w)!;
      const c = dims[0] ?? 1;
      const key = `${v}|${a.channels[e.id]?.join(',') ?? ''}`;
      const name = maskInput(e.id, w);
      let m = masks.get(name);
      if (!m || m.key !== key) {
        // Recomputed only when the share or the list changes, not per frame.
        const data = new Float32Array(c).fill(1);
        for (const ch of ablatedChannels(c, v, e.seed, a.channels[e.id])) data[ch] = 0;
        masks.set(name, (m = { key, tensor: new ort.Tensor('float32', data, [c, ...dims.slice(1).map(() => 1)]) }));
      }
      feeds[name] = m.tensor;
    }
  }
}

const untouched = (f: StructuralFeature, fr: FeatureFrame | undefined) => !fr || isNeutral(f.op, fr.values) || fr.channels?.length === 0;

function withFeatures(feeds: Record<string, ort.Tensor>, a: BendAmounts, features: StructuralFeature[]): void {
  for (const f of features) {
    const fr = a.features[f.id] ?? { values: { bypass: 1 }, channels: [] };
    const key = JSON.stringify(fr);
    let held = featureTensors.get(f.id);
    if (!held || held.key !== key) {
      // Recomputed only when a value or the channel selection changed (a grid is H x W x 2 floats).
      const data = featureFeeds(f, fr.values, fr.channels);
      const tensors: Record<string, ort.Tensor> = {};
      for (const input of featureInputs(f)) tensors[input.suffix] = new ort.Tensor(input.type, data[input.suffix] as Float32Array & BigInt64Array, input.dims);
      featureTensors.set(f.id, (held = { key, tensors }));
    }
    for (const [suffix, t] of Object.entries(held.tensors)) feeds[featureInput(f.id, suffix)] = t;
  }
}

function withRange(feeds: Record<string, ort.Tensor>, range: ValueRange | undefined): Record<string, ort.Tensor> {
  if (!loaded?.image) return feeds;
  const key = range ?? '-1..1';
  let r = rangeTensors.get(key);
  if (!r) {
    const { scale, bias } = RANGE_TRANSFORM[key];
    rangeTensors.set(key, (r = { scale: new ort.Tensor('float32', new Float32Array([scale]), [1]), bias: new ort.Tensor('float32', new Float32Array([bias]), [1]) }));
  }
  feeds[RGBA_SCALE] = r.scale;
  feeds[RGBA_BIAS] = r.bias;
  return feeds;
}

async function run(req: RunRequest): Promise<{ reply: RunReply; transfer: ArrayBuffer[] }> {
  if (!plain || !loaded) throw new Error('no model loaded');
  const t0 = performance.now();
  const edits = loaded.bend?.edits ?? [];
  const features = loaded.bend?.features ?? [];
  // W space at identity (no req.latent) plays plain too, so truncation 1 is the model bit for bit.
  const bent = !!live && ((!!req.amounts && !isIdentity(req.amounts, edits, features)) || (!!req.latent && !!loaded.latent));
  const feeds = withRange(toOrtFeeds(req.feeds), req.range);
  if (bent && req.amounts) {
    withBends(feeds, req.amounts, edits);
    withFeatures(feeds, req.amounts, features);
  }
  if (bent && loaded.latent) latentFeeds(feeds, loaded.latent, req.latent, req.feeds);
  const t1 = performance.now();
  const fetch = loaded.image ? [RGBA_OUTPUT, FINITE_OUTPUT, ...req.fetch] : req.fetch;
  const out = await (bent ? live! : plain).run(feeds, fetch);
  const t2 = performance.now();
  const tensors: Record<string, TensorMsg> = {};
  const transfer: ArrayBuffer[] = [];
  // The picture is checked in the graph (FINITE_OUTPUT), taps and numeric outputs here.
  const nonFinite = loaded.image && (out[FINITE_OUTPUT]!.data as Float32Array)[0] !== 0 ? [loaded.image.output] : [];
  for (const name of req.fetch) {
    const t = out[name]!;
    const data = t.type === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
    tensors[name] = { data, dims: [...t.dims] };
    if (!allFinite(data)) nonFinite.push(name);
    transfer.push(data.buffer as ArrayBuffer);
  }
  let rgba: Uint8Array | undefined;
  if (loaded.image) {
    // Copied here, off the main thread, into a buffer with room in front for a sink's header.
    const px = out[RGBA_OUTPUT]!.data as Uint8Array;
    rgba = new Uint8Array(req.lead + px.byteLength).subarray(req.lead);
    rgba.set(px);
  }
  if (rgba) transfer.push(rgba.buffer as ArrayBuffer);
  return { reply: { rgba, tensors, inferMs: t2 - t1, bendMs: t1 - t0, nonFinite }, transfer: [...new Set(transfer)] };
}

/** Runs under way: a session released while one of them runs aborts the whole process. */
const running = new Set<Promise<unknown>>();

serveRequests<Request>(port, async (req) => {
  if (req.kind === 'load') return { ok: await load(req) };
  if (req.kind === 'run') {
    const p = run(req);
    running.add(p);
    try {
      const { reply, transfer } = await p;
      return { ok: reply, transfer };
    } finally {
      running.delete(p);
    }
  }
  await Promise.allSettled(running);
  for (const s of [plain, live]) await s?.release();
  plain = live = undefined;
  return { ok: true };
});

// The only module that imports onnxruntime. It runs in a worker thread: session creation blocks
// its thread for tens to hundreds of ms, and the engine's frame loop must not notice.
import { parentPort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { encodeModel, readModelFile } from '../onnx/model-file.ts';
import { addOutputs, appendRgbaOutput, RGBA_BIAS, RGBA_OUTPUT, RGBA_SCALE, weightsToInputs } from '../onnx/rewrite.ts';
import { weightInitializers } from '../onnx/model-info.ts';
import { floatValues } from '../onnx/tensor-data.ts';
import { ablatedChannels, WeightBender, type WeightRecipe, type WeightTensor } from '../bend/weight-bender.ts';
import { autoCandidates } from './ep.ts';
import { RANGE_TRANSFORM, type EpName, type LoadReply, type LoadRequest, type PartnerReply, type Request, type RunReply, type RunRequest, type TensorMsg, type ValueRange } from './protocol.ts';

const port = parentPort!;
/**
 * Two sessions of the same graph: `plain` with the weights baked in, and `live` with the bendable
 * weights as inputs. onnxruntime optimises constant weights differently (folding, packing), so the
 * two differ in the last float bits; a frame whose recipes are all identity runs on `plain`, which
 * makes "no bend" exactly the original model, and is faster too.
 */
let plain: ort.InferenceSession | undefined;
let live: ort.InferenceSession | undefined;
let loaded: LoadRequest | undefined;
let base = new Map<string, WeightTensor>();
let bender: WeightBender | undefined;
const weightTensors = new Map<string, ort.Tensor>();
const rangeTensors = new Map<ValueRange, { scale: ort.Tensor; bias: ort.Tensor }>();

function bundled(ep: EpName): boolean {
  if (ep === 'cpu') return true;
  const info = ort.listSupportedBackends().find((b) => b.name === ep);
  if (!info) return false;
  if (info.bundled) return true;
  // CUDA's libraries come from `npm run install:cuda`; the binding finds them beside itself.
  const binding = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(binding, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

async function createSession(bytes: Uint8Array, choice: LoadRequest['ep'], warnings: string[]): Promise<{ s: ort.InferenceSession; ep: EpName }> {
  const candidates: EpName[] = choice === 'auto' ? autoCandidates(bundled) : [choice];
  for (const ep of candidates) {
    if (!bundled(ep)) {
      // Asked for by name and not in this build: an error, not a silent slow show on the CPU.
      throw new Error(`execution provider ${ep} is not available in this onnxruntime-node build on ${process.platform}-${process.arch}${ep === 'cuda' ? ' (run `npm run install:cuda` to fetch the CUDA libraries)' : ''}; available: ${ort.listSupportedBackends().filter((b) => bundled(b.name as EpName)).map((b) => b.name).join(', ')}`);
    }
    try {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
      return { s, ep };
    } catch (err) {
      if (ep === 'cpu') throw err;
      warnings.push(`execution provider ${ep} failed to start (${firstLine(err)}); falling back to cpu`);
    }
  }
  return { s: await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 }), ep: 'cpu' };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200);
}

async function load(req: LoadRequest): Promise<LoadReply> {
  const { model } = await readModelFile(req.file);
  const warnings: string[] = [];
  base = new Map();
  const liveNames = new Set(req.liveWeights);
  for (const t of weightInitializers(model)) if (liveNames.has(t.name)) base.set(t.name, { data: floatValues(t), dims: t.dims.map(Number) });
  let playable = req.image ? appendRgbaOutput(model, req.image) : model;
  playable = addOutputs(playable, req.taps);
  const created = await createSession(encodeModel(playable), req.ep, warnings);
  // The live twin runs on whatever provider the plain one ended up on.
  const twin = liveNames.size ? await createSession(encodeModel(weightsToInputs(playable, liveNames)), created.ep, warnings) : undefined;
  for (const old of [plain, live]) old?.release().catch(() => {});
  plain = created.s;
  live = twin?.s;
  loaded = req;
  bender = new WeightBender(base, undefined);
  weightTensors.clear();
  if (req.partnerFile) {
    const p = await partner(req.partnerFile, [...liveNames]);
    if (p.mismatches.length) warnings.push(`blend partner ${req.partnerFile} does not match: ${p.mismatches.join('; ')}`);
  }
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

async function partner(file: string | undefined, names: string[]): Promise<PartnerReply> {
  if (!file) {
    bender?.setPartner(undefined);
    return { mismatches: [] };
  }
  const { model } = await readModelFile(file);
  const theirs = new Map(weightInitializers(model).map((t) => [t.name, t]));
  const mismatches: string[] = [];
  const weights = new Map<string, WeightTensor>();
  for (const name of names) {
    const mine = base.get(name);
    const t = theirs.get(name);
    if (!mine) continue;
    if (!t) {
      mismatches.push(`${name} is missing`);
      continue;
    }
    const dims = t.dims.map(Number);
    if (dims.join('x') !== mine.dims.join('x')) {
      mismatches.push(`${name} is ${dims.join('x')}, expected ${mine.dims.join('x')}`);
      continue;
    }
    weights.set(name, { data: floatValues(t), dims });
  }
  if (mismatches.length === 0) bender?.setPartner(weights);
  return { mismatches };
}

function toOrtFeeds(feeds: Record<string, TensorMsg>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor('float32', t.data, t.dims);
  return out;
}

/** A recipe that leaves its weight exactly as it is. */
function isIdentity(name: string, r: WeightRecipe): boolean {
  if (r.blend !== 0) return false;
  const channels = base.get(name)?.dims[0] ?? 1;
  return r.edits.every((e) =>
    e.op === 'scale' ? e.amount === 1 : e.op === 'offset' || e.op === 'noise' ? e.amount === 0 : e.op === 'ablate' ? ablatedChannels(channels, e).length === 0 : false,
  );
}

function withWeights(feeds: Record<string, ort.Tensor>, req: RunRequest): Record<string, ort.Tensor> {
  for (const [name, w] of base) {
    const recipe = req.recipes?.[name];
    const data = recipe ? bender!.weight(name, recipe) : w.data;
    let t = weightTensors.get(name);
    // One Tensor per buffer: the bender rewrites its buffer in place, so the tensor stays valid.
    if (!t || t.data !== data) weightTensors.set(name, (t = new ort.Tensor('float32', data, w.dims)));
    feeds[name] = t;
  }
  return feeds;
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
  const bent = live && req.recipes && Object.entries(req.recipes).some(([name, r]) => !isIdentity(name, r));
  const feeds = withRange(toOrtFeeds(req.feeds), req.range);
  if (bent) withWeights(feeds, req);
  const t1 = performance.now();
  const fetch = loaded.image ? [RGBA_OUTPUT, ...req.fetch] : req.fetch;
  const out = await (bent ? live! : plain).run(feeds, fetch);
  const t2 = performance.now();
  const tensors: Record<string, TensorMsg> = {};
  const transfer: ArrayBuffer[] = [];
  for (const name of req.fetch) {
    const t = out[name]!;
    const data = t.type === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
    tensors[name] = { data, dims: [...t.dims] };
    transfer.push(data.buffer as ArrayBuffer);
  }
  const rgba = loaded.image ? (out[RGBA_OUTPUT]!.data as Uint8Array) : undefined;
  if (rgba) transfer.push(rgba.buffer as ArrayBuffer);
  return { reply: { rgba, tensors, inferMs: t2 - t1, bendMs: t1 - t0 }, transfer: [...new Set(transfer)] };
}

port.on('message', async (msg: { id: number; req: Request }) => {
  try {
    const { req } = msg;
    if (req.kind === 'load') port.postMessage({ id: msg.id, ok: await load(req) });
    else if (req.kind === 'run') {
      const { reply, transfer } = await run(req);
      port.postMessage({ id: msg.id, ok: reply }, transfer);
    } else if (req.kind === 'partner') port.postMessage({ id: msg.id, ok: await partner(req.file, req.names) });
    else {
      for (const s of [plain, live]) await s?.release();
      plain = live = undefined;
      port.postMessage({ id: msg.id, ok: true });
    }
  } catch (err) {
    port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});

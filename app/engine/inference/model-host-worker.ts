// The one place a model file is read and decoded (in its own thread, so a 100 MB model never
// holds the frame loop): it keeps the decoded graph for the engine's life, answers what the
// engine needs to know about it, checks partners against it, and builds the graph bytes of every
// session the engine asks for (taps exposed, bends in the graph), which the session worker loads.
import { parentPort } from 'node:worker_threads';
import type { ModelProto, TensorProto } from '../onnx/schema/onnx_pb.ts';
import { encodeModel, readModelFile } from '../onnx/model-file.ts';
import { describeModel, partnerMismatches, weightInitializers } from '../onnx/model-info.ts';
import { floatWeight, storedWeights } from '../onnx/weight-format.ts';
import { buildLayerTree } from '../onnx/layer-tree.ts';
import { addOutputs, appendRgbaOutput } from '../onnx/rewrite.ts';
import { bendGraph } from '../bend/bend-graph.ts';
import { featureGraph } from '../bend/feature-graph.ts';
import { zeroSafeEdits } from '../bend/zero-safe.ts';
import { appendFiniteFlag } from '../onnx/finite-check.ts';
import { findWSplit, type WFinding } from '../latent/w-split.ts';
import { latentGraph, mappingGraph } from '../latent/w-graph.ts';
import type { HostReply, HostRequest } from './protocol.ts';
import { serveRequests } from './worker-serve.ts';

let model: ModelProto | undefined;
/** W space: where the mapping hands ws to the synthesis, or why there is no such place. */
let w: WFinding = { note: 'no model' };
/** Partners' weights by file, matched to this model by name and shape; the last few are kept. */
const partners = new Map<string, Map<string, TensorProto>>();
const PARTNERS_KEPT = 2;

async function partnerWeights(file: string): Promise<{ weights: Map<string, TensorProto>; mismatches: string[] }> {
  const kept = partners.get(file);
  if (kept) return { weights: kept, mismatches: [] };
  const theirs = (await readModelFile(file)).model;
  const mismatches = partnerMismatches(describeModel(model!), describeModel(theirs));
  const mine = new Map(weightInitializers(model!).map((t) => [t.name, t.dims.join('x')]));
  // Quantized partner weights come dequantized: their scales live in the partner's graph, not ours.
  const weights = new Map(
    storedWeights(theirs)
      .filter((w) => w.format.kind !== 'unknown' && mine.get(w.tensor.name) === w.tensor.dims.join('x'))
      .map((w) => [w.tensor.name, floatWeight(w)]),
  );
  if (mismatches.length === 0) {
    partners.set(file, weights);
    for (const old of partners.keys()) if (partners.size > PARTNERS_KEPT) partners.delete(old);
  }
  return { weights, mismatches };
}

serveRequests<HostRequest>(parentPort!, async (req): Promise<{ ok: HostReply; transfer?: ArrayBuffer[] }> => {
  if (req.kind === 'open') {
    model = (await readModelFile(req.file)).model;
    w = findWSplit(model);
    return { ok: { kind: 'opened', info: describeModel(model), layers: buildLayerTree(model).roots, w } };
  }
  if (!model) throw new Error('no model opened');
  if (req.kind === 'partner') return { ok: { kind: 'partner', mismatches: (await partnerWeights(req.file)).mismatches } };
  if (req.kind === 'mapping') {
    if (!('split' in w)) throw new Error(w.note);
    const graph = encodeModel(mappingGraph(model, w.split));
    return { ok: { kind: 'mapping', graph }, transfer: [graph.buffer as ArrayBuffer] };
  }
  let playable = req.image ? appendRgbaOutput(model, req.image) : model;
  if (req.image) playable = appendFiniteFlag(playable, req.image.output);
  playable = addOutputs(playable, req.taps);
  const plain = encodeModel(playable);
  let live: Uint8Array | undefined;
  // W space rewrites only the mapping's end, before any bend; the bends then apply as usual.
  const shaped = req.latent && 'split' in w ? latentGraph(playable, w.split) : undefined;
  if (req.bend) {
    const partner = req.bend.partnerFile ? (await partnerWeights(req.bend.partnerFile)).weights : undefined;
    live = encodeModel(zeroSafeEdits(bendGraph(featureGraph(shaped ?? playable, req.bend.features), { partner, edits: req.bend.edits }), req.bend.edits));
  } else if (shaped) live = encodeModel(shaped);
  const transfer = [plain.buffer as ArrayBuffer, ...(live ? [live.buffer as ArrayBuffer] : [])];
  return { ok: { kind: 'built', plain, live }, transfer };
});

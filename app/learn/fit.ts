// Fitting a mapper from examples (issue 13): some columns of a dataset in, others out. The
// inputs and targets are scaled, the targets optionally reduced by PCA, a model of the kind asked
// for is fitted on a seeded share of the examples and measured on the rest (RMSE in the targets'
// own units), then by default fitted again on all of them. The result is one ONNX file, scaling
// and PCA decode inside, that netbend plays as a controller net, and a card saying what it is.
import { create, toBinary } from '@bufbuild/protobuf';
import { z } from 'zod';
import type { TrainProgress } from '../core/protocol.ts';
import { mulberry32 } from '../core/seeded-random.ts';
import { attr, GraphBuilder } from '../engine/onnx/graph-builder.ts';
import { ModelProtoSchema, StringStringEntryProtoSchema } from '../engine/onnx/schema/onnx_pb.ts';
import { columnsOf, type Dataset } from './dataset.ts';
import { fitKernel } from './kernel.ts';
import { fitKnn } from './knn.ts';
import { fitLinear } from './linear.ts';
import { DoubleGraph, FLOAT } from './mapper-graph.ts';
import { fitMlp } from './mlp.ts';
import { decode, encode, fitPca, fitScaler, type Pca, type Rows, type Scaler, scale, unscale } from './preprocess.ts';
import type { MapperKind, Regressor } from './regressor.ts';

export type { MapperKind } from './regressor.ts';

export interface TrainOptions {
  inputs: string[];
  targets: string[];
  model: MapperKind;
  /** MLP hidden layer sizes, default [32, 32]. */
  hidden?: number[];
  /** PCA on the (scaled) targets: keep this many components, or as many as keep this share of the variance. */
  pca?: { components: number } | { variance: number };
  /** kNN neighbours, default 5. */
  k?: number;
  /** Ridge (L2) strength for linear and kernel, default 1e-3. */
  ridge?: number;
  /** RBF width for kernel, default 1 / inputs (inputs are scaled). */
  gamma?: number;
  /** Share of examples held back to measure the fit, default 0.2. */
  validation?: number;
  seed?: number;
  /** MLP epochs at most, default 2000 (early stopping usually ends sooner). */
  maxEpochs?: number;
  /** Fit again on every example once measured, default true (the card's RMSE is the held-back one). */
  refit?: boolean;
  /** MLP Adam step size, default 0.003. */
  learningRate?: number;
}

export type { TrainProgress };

export interface MapperCard {
  netbend: 'mapper';
  version: 1;
  inputs: string[];
  targets: string[];
  model: MapperKind;
  settings: Record<string, unknown>;
  pca: { components: number; explained: number[] } | null;
  validationRmse: number;
  validationRmsePerTarget: number[];
  examples: number;
  date: string;
}

export interface TrainedMapper {
  onnx: Uint8Array;
  card: MapperCard;
}

export class TrainError extends Error {}

/** Fewer examples than this cannot be split into a fit and a measure. */
export const MIN_EXAMPLES = 4;
export const MAX_HIDDEN_UNITS = 1024;
export const MAX_HIDDEN_LAYERS = 8;
/** Kernel ridge solves an n x n system (measured: 1000 examples 1.5 s, both fits; 3000 about 40 s). */
export const MAX_KERNEL_EXAMPLES = 3000;
/** kNN stores every example in the graph and compares with each one per run. */
export const MAX_KNN_EXAMPLES = 50_000;

const optionsSchema = z.strictObject({
  inputs: z.array(z.string().min(1)).min(1, 'at least one input column').max(4096),
  targets: z.array(z.string().min(1)).min(1, 'at least one target column').max(4096),
  model: z.enum(['linear', 'kernel', 'knn', 'mlp'], { error: 'model must be linear, kernel, knn or mlp' }),
  hidden: z
    .array(z.int().min(1, 'a hidden layer has at least 1 unit').max(MAX_HIDDEN_UNITS, `a hidden layer has at most ${MAX_HIDDEN_UNITS} units`))
    .min(1, 'at least one hidden layer')
    .max(MAX_HIDDEN_LAYERS, `at most ${MAX_HIDDEN_LAYERS} hidden layers`)
    .optional(),
  pca: z
    .union([
      z.strictObject({ components: z.int().min(1, 'PCA keeps at least 1 component') }),
      z.strictObject({ variance: z.number().gt(0, 'the PCA variance kept is a share above 0').max(1, 'the PCA variance kept is a share up to 1') }),
    ])
    .optional(),
  k: z.int().min(1, 'k is at least 1').optional(),
  ridge: z.number().min(0, 'ridge is >= 0').max(1e6, 'ridge is at most 1e6').optional(),
  gamma: z.number().gt(0, 'gamma is > 0').max(1e6, 'gamma is at most 1e6').optional(),
  validation: z.number().min(0.05, 'validation is a share from 0.05 to 0.5').max(0.5, 'validation is a share from 0.05 to 0.5').optional(),
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  maxEpochs: z.int().min(1, 'maxEpochs is at least 1').max(100_000, 'maxEpochs is at most 100000').optional(),
  refit: z.boolean().optional(),
  learningRate: z.number().gt(0).max(1).optional(),
});

/** Options with every default filled in. */
export type Settled = Required<Omit<TrainOptions, 'pca'>> & { pca: TrainOptions['pca'] | null };

/** The options checked against each other and the data; every refusal is one sentence. */
export function checkOptions(data: Dataset, opts: TrainOptions): Settled {
  const parsed = optionsSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${String(issue.path[0])}: ` : '';
    throw new TrainError(`${where}${issue.message}`);
  }
  const o = parsed.data;
  for (const names of [o.inputs, o.targets]) {
    const dup = names.find((c, i) => names.indexOf(c) !== i);
    if (dup !== undefined) throw new TrainError(`the column "${dup}" is named twice`);
    for (const c of names) if (!data.columns.includes(c)) throw new TrainError(`no column "${c}"; the columns are ${data.columns.slice(0, 30).join(', ')}${data.columns.length > 30 ? ', ...' : ''}`);
  }
  const both = o.inputs.find((c) => o.targets.includes(c));
  if (both !== undefined) throw new TrainError(`"${both}" is both an input and a target`);
  const n = data.rows.length;
  if (n < MIN_EXAMPLES) throw new TrainError(`${n} example${n === 1 ? '' : 's'}; training needs at least ${MIN_EXAMPLES}`);
  data.rows.forEach((r, i) => {
    if (r.length !== data.columns.length) throw new TrainError(`example ${i + 1} has ${r.length} values for ${data.columns.length} columns`);
    const bad = r.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new TrainError(`example ${i + 1}, column "${data.columns[bad]}": ${r[bad]} is not a finite number`);
  });
  const validation = o.validation ?? 0.2;
  const fitCount = n - heldCount(n, validation);
  const k = o.k ?? Math.min(5, fitCount);
  if (o.model === 'knn' && k > fitCount) throw new TrainError(`k = ${k} neighbours, but only ${fitCount} examples are fitted (${n} less ${n - fitCount} held back)`);
  if (o.model === 'kernel' && n > MAX_KERNEL_EXAMPLES) throw new TrainError(`${n} examples; kernel regression takes at most ${MAX_KERNEL_EXAMPLES} (try mlp or knn)`);
  if (o.model === 'knn' && n > MAX_KNN_EXAMPLES) throw new TrainError(`${n} examples; kNN takes at most ${MAX_KNN_EXAMPLES} (try mlp)`);
  if (o.pca && 'components' in o.pca && o.pca.components > o.targets.length) {
    throw new TrainError(`PCA keeps ${o.pca.components} components of ${o.targets.length} target${o.targets.length === 1 ? '' : 's'}; at most ${o.targets.length}`);
  }
  return {
    inputs: o.inputs,
    targets: o.targets,
    model: o.model,
    hidden: o.hidden ?? [32, 32],
    pca: o.pca ?? null,
    k,
    ridge: o.ridge ?? 1e-3,
    gamma: o.gamma ?? 1 / o.inputs.length,
    validation,
    seed: o.seed ?? 1,
    maxEpochs: o.maxEpochs ?? 2000,
    refit: o.refit ?? true,
    learningRate: o.learningRate ?? 0.003,
  };
}

const heldCount = (n: number, share: number) => Math.min(n - 2, Math.max(1, Math.round(n * share)));

/** A fitted mapper: the maths in JavaScript, and the same as one ONNX graph. */
export interface FittedMapper {
  readonly card: MapperCard;
  /** Raw targets for raw inputs, as the exported graph computes them. */
  predict(x: ArrayLike<number>): Float64Array;
  toOnnx(): Uint8Array;
}

interface Pipeline {
  xs: Scaler;
  ts: Scaler;
  pca: Pca | undefined;
  model: Regressor;
  epochs: number;
}

function fitPipeline(x: Rows, y: Rows, o: Settled, held: { x: Rows; y: Rows } | undefined, epochs: number, progress: (p: TrainProgress) => void): Pipeline {
  const xs = fitScaler(x);
  const ts = fitScaler(y);
  const tn = y.map((r) => scale(ts, r));
  const pca = o.pca ? fitPca(tn, o.pca) : undefined;
  const space = (rows: Rows) => (pca ? rows.map((r) => encode(pca, r)) : rows);
  const xn = x.map((r) => scale(xs, r));
  const t = space(tn);
  const pass = held ? 'validate' : 'refit';
  if (o.model !== 'mlp') {
    progress({ stage: 'training', epoch: 1, epochs: 1, pass });
    const model = o.model === 'linear' ? fitLinear(xn, t, o.ridge) : o.model === 'kernel' ? fitKernel(xn, t, o.gamma, o.ridge) : fitKnn(xn, t, o.k);
    return { xs, ts, pca, model, epochs: 1 };
  }
  // The held-back examples pick the epoch to stop at, and then measure the fit: a little
  // optimistic for the MLP, the price of not holding back a third share from a few dozen examples.
  const h = held && { x: held.x.map((r) => scale(xs, r)), t: space(held.y.map((r) => scale(ts, r))) };
  const model = fitMlp(xn, t, { hidden: o.hidden, epochs, seed: o.seed, learningRate: o.learningRate, batch: 32, patience: 100 }, h, (r) => progress({ stage: 'training', ...r, pass }));
  return { xs, ts, pca, model, epochs: model.bestEpoch };
}

function predictWith(p: Pipeline, x: ArrayLike<number>): Float64Array {
  const out = p.model.predict(scale(p.xs, x));
  return unscale(p.ts, p.pca ? decode(p.pca, out) : out);
}

/** Fits and measures a mapper in this thread; `train` and the worker export it. */
export function fitMapper(data: Dataset, opts: TrainOptions, onProgress: (p: TrainProgress) => void = () => {}): FittedMapper {
  const o = checkOptions(data, opts);
  onProgress({ stage: 'preparing' });
  const x = columnsOf(data, o.inputs).map((r) => Float64Array.from(r));
  const y = columnsOf(data, o.targets).map((r) => Float64Array.from(r));
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(o.seed ^ 0x5eed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nHeld = heldCount(n, o.validation);
  const heldIdx = order.slice(0, nHeld);
  const fitIdx = order.slice(nHeld);
  const pick = (rows: Rows, idx: number[]) => idx.map((i) => rows[i]!);
  const held = { x: pick(x, heldIdx), y: pick(y, heldIdx) };
  const first = fitPipeline(pick(x, fitIdx), pick(y, fitIdx), o, held, o.maxEpochs, onProgress);
  const m = o.targets.length;
  const se = new Float64Array(m);
  held.x.forEach((r, i) => {
    const p = predictWith(first, r);
    for (let j = 0; j < m; j++) se[j]! += (p[j]! - held.y[i]![j]!) ** 2;
  });
  const perTarget = Array.from(se, (s) => Math.sqrt(s / nHeld));
  const overall = Math.sqrt(se.reduce((a, b) => a + b, 0) / (nHeld * m));
  const final = o.refit ? fitPipeline(x, y, o, undefined, first.epochs, onProgress) : first;
  const card: MapperCard = {
    netbend: 'mapper',
    version: 1,
    inputs: o.inputs,
    targets: o.targets,
    model: o.model,
    settings: { ...final.model.settings, validation: o.validation, seed: o.seed, refit: o.refit, ...(o.model === 'mlp' ? { maxEpochs: o.maxEpochs } : {}) },
    pca: final.pca ? { components: final.pca.components, explained: final.pca.explained } : null,
    validationRmse: overall,
    validationRmsePerTarget: perTarget,
    examples: n,
    date: new Date().toISOString(),
  };
  return {
    card,
    predict: (v) => predictWith(final, v),
    toOnnx: () => mapperGraph(final, card),
  };
}

/** x (float [1, inputs]) -> scale -> model -> PCA decode -> unscale -> y (float [1, targets]). */
function mapperGraph(p: Pipeline, card: MapperCard): Uint8Array {
  const gb = new GraphBuilder({ opset: 17, name: 'mapper', producer: 'netbend train', docString: `netbend mapper: ${card.model}, ${card.inputs.join(',')} -> ${card.targets.join(',')}` });
  const g = new DoubleGraph(gb);
  const nIn = card.inputs.length;
  const nOut = card.targets.length;
  const x = gb.input('x', [1, nIn]);
  const xn = g.op('Div', [g.op('Sub', [g.toDouble(x), g.const('input_mean', p.xs.mean, [nIn])]), g.const('input_std', p.xs.std, [nIn])]);
  let t = p.model.emit(g, xn);
  if (p.pca) t = g.op('MatMul', [t, g.const('pca_basis', p.pca.basis, [p.pca.components, nOut])]);
  const y = g.op('Add', [g.op('Mul', [t, g.const('target_std', p.ts.std, [nOut])]), g.const('target_mean', p.ts.mean, [nOut])]);
  gb.op('Cast', [y], { to: attr.int(FLOAT) }, { out: 'y' });
  gb.output('y', [1, nOut]);
  const model = gb.toModel();
  model.metadataProps.push(create(StringStringEntryProtoSchema, { key: 'netbend.mapper', value: JSON.stringify(card) }));
  return toBinary(ModelProtoSchema, model);
}

/** Trains in this thread (tests; a live show uses trainInWorker from train.ts). */
export function train(data: Dataset, opts: TrainOptions, onProgress?: (p: TrainProgress) => void): TrainedMapper {
  const f = fitMapper(data, opts, onProgress);
  onProgress?.({ stage: 'exporting' });
  return { onnx: f.toOnnx(), card: f.card };
}

// Issue 13: mappers trained from examples. Smooth known functions of 4 inputs, every model kind
// measured on held-back examples; the exported ONNX run by onnxruntime itself on new inputs
// against netbend's own prediction; kNN and PCA exactness; the worker; the CLI; the controller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from '../app/engine/inference/ort.ts';
import { mulberry32 } from '../app/core/seeded-random.ts';
import { Engine } from '../app/engine/engine.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { type Dataset, formatDataset } from '../app/learn/dataset.ts';
import { fitMapper } from '../app/learn/fit.ts';
import { decode, encode, fitPca, fitScaler, scale } from '../app/learn/preprocess.ts';
import { type MapperCard, type TrainOptions, type TrainProgress, TrainError, train, trainInWorker, writeMapper } from '../app/learn/train.ts';
import { cli, maxDiff, tempDir } from './helpers.ts';

const INPUTS = ['a', 'b', 'c', 'd'];
const TARGETS = ['s', 'k', 'm'];

/** 300 examples, seeded: inputs uniform in [-1, 1] (float32 values), targets sines and a cosine of their combinations. */
function smooth(n = 300, seed = 42): Dataset {
  const rand = mulberry32(seed);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const [a, b, c, d] = Array.from({ length: 4 }, () => Math.fround(rand() * 2 - 1)) as [number, number, number, number];
    rows.push([a, b, c, d, Math.sin(2 * a + b), Math.cos(c - d + a), Math.sin(a * b + 2 * d)]);
  }
  return { columns: [...INPUTS, ...TARGETS], rows };
}
const DATA = smooth();
const opts = (o: Partial<TrainOptions>): TrainOptions => ({ inputs: INPUTS, targets: TARGETS, model: 'linear', ...o });

async function session(bytes: Uint8Array) {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
}
async function runOnnx(s: Awaited<ReturnType<typeof session>>, x: ArrayLike<number>): Promise<Float32Array> {
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, x.length]) });
  return out.y!.data as Float32Array;
}
/** Inputs none of the examples has (another seed), as float32 values so both sides see the same x. */
const fresh = (n: number) => {
  const rand = mulberry32(777);
  return Array.from({ length: n }, () => Float32Array.from({ length: 4 }, () => rand() * 2.2 - 1.1));
};

// Validation RMSE measured here (seed 1, 60 of 300 held back; targets span [-1, 1]):
// linear 0.346 (a plane through sines), kernel 0.0248, knn (k = 5) 0.166, mlp 32x32 0.0228.
const REACHES: Array<[TrainOptions['model'], number]> = [
  ['linear', 0.4],
  ['kernel', 0.035],
  ['knn', 0.2],
  ['mlp', 0.035],
];

for (const [model, bound] of REACHES) {
  test(`${model}: validation RMSE under ${bound}; its ONNX export matches its JS prediction on new inputs within 1e-5`, async () => {
    const f = fitMapper(DATA, opts({ model }));
    const c = f.card;
    assert.ok(c.validationRmse < bound, `validation RMSE ${c.validationRmse}`);
    assert.equal(c.validationRmsePerTarget.length, 3);
    const rms = Math.sqrt(c.validationRmsePerTarget.reduce((s, v) => s + v * v, 0) / 3);
    assert.ok(Math.abs(rms - c.validationRmse) < 1e-12, 'overall RMSE is the RMS over targets');
    assert.equal(c.examples, 300);
    assert.equal(c.model, model);
    const s = await session(f.toOnnx());
    for (const x of fresh(40)) assert.ok(maxDiff(await runOnnx(s, x), f.predict(x)) < 1e-5);
    await s.release();
  });
}

test('the exported graph has one float input x [1, inputs] and one output y [1, targets]', async () => {
  const s = await session(train(DATA, opts({ model: 'knn' })).onnx);
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual(s.outputNames, ['y']);
  const y = await runOnnx(s, [0.1, 0.2, 0.3, 0.4]);
  assert.equal(y.length, 3);
  await s.release();
});

test('kNN with k = 1 gives back every training target on its training input, in JS exactly and through ONNX within 1e-6', async () => {
  const f = fitMapper(DATA, opts({ model: 'knn', k: 1 }));
  const s = await session(f.toOnnx());
  let js = 0;
  let onnx = 0;
  for (const r of DATA.rows) {
    const y = r.slice(4);
    js = Math.max(js, maxDiff(f.predict(r.slice(0, 4)), y));
    // The inputs are float32 values, so the ONNX side sees a true hit too.
    onnx = Math.max(onnx, maxDiff(await runOnnx(s, r.slice(0, 4)), y));
  }
  assert.ok(js < 1e-12, `JS ${js}`);
  assert.ok(onnx < 1e-6, `ONNX ${onnx}`);
  await s.release();
});

test('PCA keeping every component round-trips exactly, alone and through a whole mapper', async () => {
  const rand = mulberry32(5);
  // Correlated targets: 6 columns from 3 sources, so the variance sits in few components.
  const rows = Array.from({ length: 200 }, () => {
    const [u, v, w] = [rand(), rand(), rand()];
    return Float64Array.of(u, v, w, u + v, 2 * v - w, u * 3 + 0.01 * rand());
  });
  const sc = fitScaler(rows);
  const scaled = rows.map((r) => scale(sc, r));
  const all = fitPca(scaled, { components: 6 });
  assert.equal(all.components, 6);
  assert.ok(Math.abs(all.explained.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(Math.max(...scaled.map((r) => maxDiff(decode(all, encode(all, r)), r))) < 1e-9);
  const most = fitPca(scaled, { variance: 0.95 });
  assert.ok(most.components < 6 && most.components >= 3, `${most.components} components keep 95%`);
  assert.ok(most.explained.reduce((a, b) => a + b, 0) >= 0.95);
  // Through the mapper: kNN k = 1 with every component kept still gives back the training targets.
  const data: Dataset = { columns: ['p', 'q', 't0', 't1', 't2', 't3', 't4', 't5'], rows: rows.map((r, i) => [i / 200, Math.sin(i), ...r]) };
  const targets = data.columns.slice(2);
  const f = fitMapper(data, { inputs: ['p', 'q'], targets, model: 'knn', k: 1, pca: { components: 6 } });
  assert.equal(f.card.pca?.components, 6);
  const s = await session(f.toOnnx());
  for (const r of data.rows) {
    assert.ok(maxDiff(f.predict(r.slice(0, 2)), r.slice(2)) < 1e-9);
    assert.ok(maxDiff(await runOnnx(s, r.slice(0, 2)), r.slice(2)) < 1e-5);
  }
  await s.release();
  const reduced = fitMapper(data, { inputs: ['p', 'q'], targets, model: 'linear', pca: { variance: 0.95 } });
  assert.equal(reduced.card.pca?.components, most.components, 'refit on all examples: the same PCA');
  assert.ok(reduced.card.pca!.explained.reduce((a, b) => a + b, 0) >= 0.95, 'the card reports the variance kept');
});

test('a constant column is scaled to 0, not to NaN', () => {
  const data: Dataset = { columns: ['a', 'flat', 'y', 'same'], rows: Array.from({ length: 20 }, (_, i) => [i / 20, 3, Math.sin(i / 5), 7]) };
  const f = fitMapper(data, { inputs: ['a', 'flat'], targets: ['y', 'same'], model: 'kernel' });
  assert.ok(Number.isFinite(f.card.validationRmse));
  const y = f.predict([0.5, 3]);
  assert.ok(Math.abs(y[1]! - 7) < 1e-12, 'a constant target is predicted as itself');
});

test('options and data are refused with one sentence each', () => {
  const refuse = (o: Partial<TrainOptions>, re: RegExp, data: Dataset = DATA) =>
    assert.throws(
      () => train(data, opts(o)),
      (e: Error) => e instanceof TrainError && re.test(e.message) && !e.message.includes('\n'),
    );
  refuse({ inputs: ['a', 'nope'] }, /no column "nope"; the columns are a, b, c, d, s, k, m/);
  refuse({ targets: ['s', 'a'] }, /"a" is both an input and a target/);
  refuse({ inputs: ['a', 'a'] }, /named twice/);
  refuse({ model: 'mlp', hidden: [32, 2000] }, /hidden: a hidden layer has at most 1024 units/);
  refuse({ model: 'knn', k: 300 }, /k = 300 neighbours, but only 240 examples are fitted/);
  refuse({ pca: { components: 4 } }, /PCA keeps 4 components of 3 targets/);
  refuse({ validation: 0.9 }, /validation is a share from 0.05 to 0.5/);
  refuse({ model: 'svm' as 'linear' }, /model must be linear, kernel, knn or mlp/);
  refuse({}, /3 examples; training needs at least 4/, { columns: DATA.columns, rows: DATA.rows.slice(0, 3) });
  refuse({}, /example 2, column "c": NaN is not a finite number/, { columns: DATA.columns, rows: [DATA.rows[0]!, [1, 2, Number.NaN, 4, 5, 6, 7], ...DATA.rows.slice(2, 10)] });
});

test('trainInWorker trains off this thread with progress, gives what train gives, and stops when aborted', async () => {
  const o = opts({ model: 'mlp', maxEpochs: 150 });
  const seen: TrainProgress[] = [];
  // The event loop stays free: timers keep firing while the worker trains.
  let gap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  const inWorker = await trainInWorker(DATA, o, (p) => seen.push(p)).finally(() => clearInterval(timer));
  assert.ok(gap < 250, `longest pause of this thread's timers ${gap.toFixed(0)} ms`);
  assert.equal(seen[0]!.stage, 'preparing');
  assert.equal(seen.at(-1)!.stage, 'exporting');
  const epochs = seen.filter((p) => p.stage === 'training' && p.pass === 'validate');
  assert.ok(epochs.length >= 2 && epochs.every((p) => p.epochs === 150 && Number.isFinite(p.loss) && Number.isFinite(p.validationLoss)));
  assert.ok(
    seen.some((p) => p.pass === 'refit'),
    'then the refit on all examples',
  );
  const here = train(DATA, o);
  assert.equal(inWorker.card.validationRmse, here.card.validationRmse, 'same seed, same fit');
  assert.deepEqual({ ...inWorker.card, date: '' }, { ...here.card, date: '' });
  const [a, b] = [await session(inWorker.onnx), await session(here.onnx)];
  for (const x of fresh(5)) assert.deepEqual(await runOnnx(a, x), await runOnnx(b, x));
  await Promise.all([a.release(), b.release()]);

  const stop = new AbortController();
  const aborted = trainInWorker(DATA, opts({ model: 'mlp', maxEpochs: 100_000 }), (p) => p.stage === 'training' && stop.abort(new Error('stopped by the performer')), stop.signal);
  await assert.rejects(aborted, /stopped by the performer/);
  await assert.rejects(trainInWorker(DATA, opts({ inputs: ['zz'] })), (e: Error) => e instanceof TrainError && /no column "zz"/.test(e.message));
});

test('writeMapper writes the model and its card; the mapper opens in Engine as a numeric controller net', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sub', 'mapper.onnx');
  const f = fitMapper(DATA, opts({ model: 'kernel' }));
  await writeMapper(file, { onnx: f.toOnnx(), card: f.card });
  const card = JSON.parse(readFileSync(`${file}.card.json`, 'utf8')) as MapperCard;
  assert.equal(card.netbend, 'mapper');
  assert.equal(card.version, 1);
  assert.deepEqual(card.inputs, INPUTS);
  assert.deepEqual(card.settings, { gamma: 0.25, ridge: 1e-3, validation: 0.2, seed: 1, refit: true });
  assert.ok(!Number.isNaN(Date.parse(card.date)));
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: file, ep: 'cpu', registry: params, namespace: '/netbend/ctl/m' });
  try {
    assert.equal(engine.image, undefined, 'numbers out, no image');
    const x = [0.25, -0.5, 0.75, 0.125];
    x.forEach((v, i) => params.set(`/netbend/ctl/m/source/x/p${i}`, v, 'osc'));
    await engine.render({ index: 0, time: 0, dt: 0 });
    const y = TARGETS.map((_, i) => params.number(`/netbend/ctl/m/outputs/y/${i}`));
    assert.ok(maxDiff(y, f.predict(x)) < 1e-5, `engine ${y} vs JS ${f.predict(x)}`);
  } finally {
    await engine.close();
  }
});

test('netbend train writes mapper and card and prints the validation error; bad CSVs and options end in one line', async (t) => {
  const dir = tempDir(t);
  const csv = join(dir, 'examples.csv');
  writeFileSync(csv, formatDataset(DATA));
  const out = join(dir, 'm.onnx');
  const badValue = join(dir, 'bad-value.csv');
  writeFileSync(badValue, 'a,b,s\n1,2,3\n4,x,6\n');
  const tooFew = join(dir, 'too-few.csv');
  writeFileSync(tooFew, 'a,b,s\n1,2,3\n4,5,6\n');
  const refusals: Array<[string[], RegExp]> = [
    [['train', badValue, '--inputs', 'a,b', '--targets', 's'], /^netbend: .*bad-value\.csv: line 3, column "b": "x" is not a finite number/],
    [['train', tooFew, '--inputs', 'a,b', '--targets', 's'], /^netbend: 2 examples; training needs at least 4/],
    [['train', csv, '--inputs', 'a,zz', '--targets', 's'], /^netbend: no column "zz"/],
    [['train', csv, '--inputs', 'a', '--targets', 's', '--pca', '1', '--pca-variance', '0.9'], /^netbend: --pca and --pca-variance: give one or the other/],
    [['train', join(dir, 'missing.csv'), '--inputs', 'a', '--targets', 's'], /^netbend: .*missing\.csv: file not found/],
  ];
  // Independent runs, side by side (each is mostly a process starting).
  const [ok, lin, ...refused] = await Promise.all([
    cli(['train', csv, '--inputs', 'a,b,c,d', '--targets', 's,k,m', '--model', 'knn', '--k', '3', '--pca', '2', '--out', out]),
    // Default output beside the data, named after it.
    cli(['train', csv, '--inputs', 'a,b', '--targets', 's', '--model', 'linear']),
    ...refusals.map(([args]) => cli(args)),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /knn mapper a,b,c,d -> s,k,m, PCA 2 components keeping \d+\.\d% of the variance/);
  assert.match(ok.stdout, /validation RMSE 0\.\d+ \(s 0\.\d+, k 0\.\d+, m 0\.\d+\) on 60 of 300 examples held back/);
  assert.ok(existsSync(out) && existsSync(`${out}.card.json`));
  const card = JSON.parse(readFileSync(`${out}.card.json`, 'utf8')) as MapperCard;
  assert.deepEqual([card.model, card.settings.k, card.pca?.components], ['knn', 3, 2]);
  assert.equal(lin.code, 0, lin.stderr);
  assert.ok(existsSync(join(dir, 'examples.onnx')));

  // Bad CSVs and options end in one line.
  for (const [i, [args, re]] of refusals.entries()) {
    const r = refused[i]!;
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

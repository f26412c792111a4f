// Channel clusters and principal components (issue #12): the maths on data whose answer is known
// by construction, checked against ml-kmeans and ml-pca, and on the real fixtures through the
// sampler and the cache, where clusters must hold channels that correlate on samples they were not
// computed from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kmeans } from 'ml-kmeans';
import { PCA } from 'ml-pca';
import { gaussianArray, mulberry32 } from '../app/core/seeded-random.ts';
import { type ChannelGroups, channelGroups, defaultClusterCount, kmeansOnGram, pooledSize, poolMaps } from '../app/engine/bend/channel-groups.ts';
import { activationSamples, ChannelGroupCache, type SampledModel } from '../app/engine/bend/channel-sampler.ts';
import { ModelHost } from '../app/engine/inference/model-host.ts';
import { type Layer, LayerTree } from '../app/engine/onnx/layer-tree.ts';
import { fixture } from './helpers.ts';

/**
 * Samples of [1, C, side, side] maps where channel c is gain_c times hidden source `group[c]` (or a
 * mix of sources, `mix[c][s]`) plus white noise; sources and noise are fresh per sample.
 */
function synthetic(mix: number[][], strengths: number[], noise: number, samples: number, side: number, seed: number): Float32Array[] {
  const plane = side * side;
  return Array.from({ length: samples }, (_, s) => {
    const sources = strengths.map((_, k) => gaussianArray(plane, seed * 7919 + s * 131 + k));
    const white = gaussianArray(mix.length * plane, seed * 7919 + s * 131 + 100);
    const out = new Float32Array(mix.length * plane);
    for (const [c, weights] of mix.entries()) {
      for (let p = 0; p < plane; p++) {
        let v = noise * white[c * plane + p]!;
        for (const [k, w] of weights.entries()) v += w * strengths[k]! * sources[k]![p]!;
        out[c * plane + p] = v;
      }
    }
    return out;
  });
}

function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function assertPartition(g: ChannelGroups, channels: number, k: number): void {
  assert.equal(g.channels, channels);
  assert.equal(g.clusters.length, k);
  for (const c of g.clusters) {
    assert.ok(c.length > 0, 'no cluster is empty');
    assert.deepEqual(
      c,
      [...c].sort((a, b) => a - b),
      'each cluster is sorted',
    );
  }
  assert.deepEqual(
    g.clusters.flat().sort((a, b) => a - b),
    Array.from({ length: channels }, (_, i) => i),
    'every channel is in exactly one cluster',
  );
  for (const [i, comp] of g.components.entries()) {
    assert.deepEqual(
      [...comp].sort((a, b) => a - b),
      Array.from({ length: channels }, (_, j) => j),
      `component ${i} ranks every channel once`,
    );
    if (i > 0) assert.ok(g.explained[i]! <= g.explained[i - 1]! + 1e-12, 'components come by explained variance, largest first');
  }
  assert.equal(g.explained.length, g.components.length);
  assert.ok(g.explained.reduce((a, b) => a + b, 0) <= 1 + 1e-9);
}

test('three hidden sources: three clusters recovered, and each leading component ranks its source channels first', () => {
  // 24 channels in groups of 12, 8 and 4, scattered over the channel indices.
  const order = shuffled(24, mulberry32(11));
  const groupOf = new Array<number>(24);
  order.forEach((c, i) => (groupOf[c] = i < 12 ? 0 : i < 20 ? 1 : 2));
  const gains = gaussianArray(24, 5).map((g) => 0.7 + 0.3 * Math.abs(g));
  const mix = groupOf.map((g, c) => [0, 1, 2].map((k) => (k === g ? gains[c]! : 0)));
  const samples = synthetic(mix, [1, 1, 1], 0.25, 10, 12, 3);
  const g = channelGroups(samples, [1, 24, 12, 12], { clusters: 3 });
  assertPartition(g, 24, 3);
  const truth = [0, 1, 2].map((k) => groupOf.flatMap((gk, c) => (gk === k ? [c] : []))).sort((a, b) => a[0]! - b[0]!);
  assert.deepEqual(g.clusters, truth);
  // A source shared by more channels explains more of their variance: 12, then 8, then 4 channels.
  for (const [i, size] of [12, 8, 4].entries()) {
    const source = groupOf[g.components[i]![0]!]!;
    assert.deepEqual(
      g.components[i]!.slice(0, size).sort((a, b) => a - b),
      groupOf.flatMap((gk, c) => (gk === source ? [c] : [])),
    );
  }
  assert.ok(g.explained[0]! + g.explained[1]! + g.explained[2]! > 0.9, `three sources explain ${g.explained.slice(0, 3)}`);
  assert.ok(g.explained[3]! < 0.02);
});

test('same samples, same groups; the cluster count is settable and checked', () => {
  const mix = Array.from({ length: 40 }, (_, c) => [1, 2, 3, 4, 5].map((k) => (c % 5 === k - 1 ? 1 : 0.2 * Math.sin(c * k))));
  const samples = synthetic(mix, [1, 0.9, 0.8, 0.7, 0.6], 0.5, 6, 20, 9);
  const a = channelGroups(samples, [1, 40, 20, 20], { clusters: 5, seed: 4 });
  const b = channelGroups(
    samples.map((s) => s.slice()),
    [1, 40, 20, 20],
    { clusters: 5, seed: 4 },
  );
  assert.deepEqual(a, b);
  assertPartition(a, 40, 5);
  const byDefault = channelGroups(samples, [1, 40, 20, 20]);
  assertPartition(byDefault, 40, defaultClusterCount(40));
  assert.equal(defaultClusterCount(40), 8);
  assert.equal(defaultClusterCount(512), 8);
  assert.equal(defaultClusterCount(8), 2);
  assert.equal(defaultClusterCount(3), 1);
  // Constant maps correlate with nothing: still k clusters of every channel, and no component.
  const flat = channelGroups([new Float32Array(40 * 9).fill(0.5)], [1, 40, 3, 3], { clusters: 4 });
  assertPartition(flat, 40, 4);
  assert.deepEqual(flat.components, []);
  assert.throws(() => channelGroups(samples, [1, 40, 20, 20], { clusters: 41 }), /cannot make 41 clusters of 40 channels/);
  assert.throws(() => channelGroups(samples, [1, 40, 400]), /need \[1, C, H, W\] activations/);
  assert.throws(() => channelGroups([samples[0]!.subarray(1)], [1, 40, 20, 20]), /sample 0 holds 15999 values/);
});

test('k-means on the correlation matrix makes the same iterations as ml-kmeans on the maps themselves', () => {
  // 90 points in 12 dimensions around 6 overlapping centres: Lloyd needs several rounds here.
  const dims = 12;
  const rand = mulberry32(21);
  const centres = Array.from({ length: 6 }, (_, k) => gaussianArray(dims, 500 + k));
  const points = Array.from({ length: 90 }, (_, i) => {
    const e = gaussianArray(dims, 900 + i);
    const c = centres[Math.floor(rand() * 6)]!;
    return Array.from({ length: dims }, (_, d) => c[d]! + 1.3 * e[d]!);
  });
  const g = new Float64Array(90 * 90);
  for (let a = 0; a < 90; a++) for (let b = 0; b < 90; b++) g[a * 90 + b] = points[a]!.reduce((s, x, d) => s + x * points[b]![d]!, 0);
  for (const start of [
    [0, 1, 2, 3, 4, 5],
    [7, 19, 33, 48, 61, 80],
  ]) {
    const ours = kmeansOnGram(g, 90, start);
    const theirs = kmeans(points, 6, {
      initialization: start.map((i) => points[i]!),
      maxIterations: 300,
    });
    assert.ok(theirs.converged);
    assert.ok(theirs.iterations > 3, `a real test needs several iterations, ml-kmeans took ${theirs.iterations}`);
    assert.deepEqual([...ours.labels], theirs.clusters);
    // ml-kmeans counts the round that finds nothing moved; the centroids are the same.
    assert.ok(Math.abs(ours.iterations - theirs.iterations) <= 1);
  }
});

test("principal components match ml-pca's on the channels with each sample's maps standardised", () => {
  for (const [channels, wanted] of [
    [40, 4],
    [10, 6],
  ] as const) {
    const w = gaussianArray(channels * 5, 77 + channels);
    const mix = Array.from({ length: channels }, (_, c) => [0, 1, 2, 3, 4].map((k) => w[c * 5 + k]!));
    const side = 9;
    const samples = synthetic(mix, [3, 2.2, 1.6, 1.1, 0.7], 0.6, 8, side, 31);
    const g = channelGroups(samples, [1, channels, side, side], { clusters: 2, components: wanted });
    assert.deepEqual(pooledSize(channels, 8, side, side), [side, side], 'the maps are used as they are');
    // Observations: every position of every sample; each sample's map of each channel standardised.
    const plane = side * side;
    const rows: number[][] = [];
    for (const s of samples) {
      const standard = Array.from({ length: channels }, (_, c) => {
        const map = Array.from(s.subarray(c * plane, (c + 1) * plane));
        const mean = map.reduce((a, b) => a + b, 0) / plane;
        const sd = Math.sqrt(map.reduce((a, b) => a + (b - mean) ** 2, 0) / plane);
        return map.map((v) => (v - mean) / sd);
      });
      for (let p = 0; p < plane; p++) rows.push(standard.map((map) => map[p]!));
    }
    const reference = new PCA(rows);
    const shares = reference.getExplainedVariance();
    assert.equal(g.components.length, wanted);
    for (let i = 0; i < wanted; i++) {
      assert.ok(Math.abs(g.explained[i]! - shares[i]!) < 1e-9, `component ${i}: ${g.explained[i]} vs ml-pca ${shares[i]}`);
      const loadings = reference.getEigenvectors().getColumn(i);
      const ranked = loadings.map((_, c) => c).sort((a, b) => Math.abs(loadings[b]!) - Math.abs(loadings[a]!));
      assert.deepEqual(g.components[i]!.slice(0, 5), ranked.slice(0, 5), `component ${i}'s leading channels`);
    }
  }
});

test('a 512-channel 64 x 64 layer over 32 samples is pooled and grouped within a couple of seconds', (t) => {
  const [channels, side, count] = [512, 64, 32];
  const plane = side * side;
  // Shifted windows of one noise buffer plus six shared sources: distinct samples, cheap to make.
  const base = gaussianArray(channels * plane + count * 97, 8);
  const sources = Array.from({ length: 6 }, (_, k) => gaussianArray(plane + count * 97, 600 + k));
  const samples = Array.from({ length: count }, (_, s) => {
    const out = new Float32Array(base.buffer, s * 97 * 4, channels * plane).slice();
    for (let c = 0; c < channels; c++) {
      const src = sources[c % 6]!;
      for (let p = 0; p < plane; p++) out[c * plane + p] = out[c * plane + p]! + 2 * src[s * 97 + p]!;
    }
    return out;
  });
  const t0 = performance.now();
  const g = channelGroups(samples, [1, channels, side, side], { clusters: 6 });
  const ms = performance.now() - t0;
  t.diagnostic(`C=512 64x64 N=32: pooled to ${pooledSize(channels, count, side, side).join('x')}, ${ms.toFixed(0)} ms`);
  assertPartition(g, channels, 6);
  assert.deepEqual(
    g.clusters,
    [0, 1, 2, 3, 4, 5].map((k) => Array.from({ length: channels / 6 + (k < channels % 6 ? 1 : 0) }, (_, i) => k + 6 * i)),
  );
  // Generous for a loaded 2-core machine; the figure above is the measurement.
  assert.ok(ms < 6000, `${ms} ms`);
});

/**
 * Pearson correlations of channel maps, accumulated over samples at full resolution, two ways:
 * per map (each sample's two maps, then the mean over samples) and over all values at once.
 */
class MapCorrelations {
  private readonly perMap: Float64Array;
  private readonly sum: Float64Array;
  private readonly sq: Float64Array;
  private readonly cross: Float64Array;
  private values = 0;
  private samples = 0;

  constructor(readonly channels: number) {
    this.perMap = new Float64Array(channels * channels);
    this.sum = new Float64Array(channels);
    this.sq = new Float64Array(channels);
    this.cross = new Float64Array(channels * channels);
  }

  add(data: Float32Array): void {
    const c = this.channels;
    const plane = data.length / c;
    const sum = new Float64Array(c);
    const sq = new Float64Array(c);
    for (let a = 0; a < c; a++) {
      for (let p = 0; p < plane; p++) {
        sum[a] = sum[a]! + data[a * plane + p]!;
        sq[a] = sq[a]! + data[a * plane + p]! * data[a * plane + p]!;
      }
    }
    for (let a = 0; a < c; a++) {
      const oa = a * plane;
      for (let b = a + 1; b < c; b++) {
        const ob = b * plane;
        let s = 0;
        for (let p = 0; p < plane; p++) s += data[oa + p]! * data[ob + p]!;
        this.cross[a * c + b] = this.cross[a * c + b]! + s;
        const cov = s - (sum[a]! * sum[b]!) / plane;
        const norm = Math.sqrt((sq[a]! - (sum[a]! * sum[a]!) / plane) * (sq[b]! - (sum[b]! * sum[b]!) / plane));
        this.perMap[a * c + b] = this.perMap[a * c + b]! + (norm > 0 ? cov / norm : 0);
      }
      this.sum[a] = this.sum[a]! + sum[a]!;
      this.sq[a] = this.sq[a]! + sq[a]!;
    }
    this.values += plane;
    this.samples++;
  }

  of(a: number, b: number, kind: 'per map' | 'all values'): number {
    const [i, j] = a < b ? [a, b] : [b, a];
    if (kind === 'per map') return this.perMap[i * this.channels + j]! / this.samples;
    const n = this.values;
    const cov = this.cross[i * this.channels + j]! - (this.sum[i]! * this.sum[j]!) / n;
    const vi = this.sq[i]! - (this.sum[i]! * this.sum[i]!) / n;
    const vj = this.sq[j]! - (this.sum[j]! * this.sum[j]!) / n;
    return vi > 0 && vj > 0 ? cov / Math.sqrt(vi * vj) : 0;
  }

  /** Mean correlation over every pair of channels that share a set. */
  withinSets(sets: number[][], kind: 'per map' | 'all values'): number {
    let total = 0;
    let pairs = 0;
    for (const set of sets) {
      for (let x = 0; x < set.length; x++) {
        for (let y = x + 1; y < set.length; y++) {
          total += this.of(set[x]!, set[y]!, kind);
          pairs++;
        }
      }
    }
    return total / pairs;
  }
}

/** Mid-network layers with [1, C, H, W] outputs and C >= 16: the ones a third and two thirds in. */
function midLayers(tree: LayerTree): Layer[] {
  const seen = new Set<string>();
  const maps = tree.all().filter((l) => {
    const s = l.outputShape;
    if (!l.output || !s || s.length !== 4 || typeof s[1] !== 'number' || s[1] < 16 || seen.has(l.output)) return false;
    seen.add(l.output);
    return true;
  });
  return [maps[Math.floor(maps.length / 3)]!, maps[Math.floor((2 * maps.length) / 3)]!];
}

async function openFixture(t: { after(fn: () => Promise<void>): void }, file: string): Promise<SampledModel> {
  const { host, info, layers } = await ModelHost.open(fixture(file));
  t.after(() => host.close());
  return { host, tree: new LayerTree(layers), inputs: info.inputs, ep: 'cpu' };
}

const SAMPLES = 16;
const RANDOM_DRAWS = 50;

for (const file of ['stylegan2-64-tiny.onnx', 'stylegan3t-128-tiny.onnx']) {
  test(`${file}: on fresh latents, channels within a cluster correlate more than random sets of the same sizes`, async (t) => {
    const model = await openFixture(t, file);
    const picked = midLayers(model.tree);
    const paths = picked.map((l) => l.path);
    // Pooled as they arrive, as the cache's worker does: the full maps of a big layer are never all held.
    const pooled = paths.map(() => [] as Float32Array[]);
    const pooledDims: number[][] = [];
    let t0 = performance.now();
    for await (const sample of activationSamples(model, paths, SAMPLES, 1)) {
      for (const [i, path] of paths.entries()) {
        const { data, dims } = sample[path]!;
        const [h, w] = pooledSize(dims[1]!, SAMPLES, dims[2]!, dims[3]!);
        pooledDims[i] = [1, dims[1]!, h, w];
        pooled[i]!.push(poolMaps(data, dims, h, w));
      }
    }
    const sampleMs = performance.now() - t0;
    const groups = paths.map((_, i) => {
      const start = performance.now();
      const g = channelGroups(pooled[i]!, pooledDims[i]!, { seed: 1 });
      return { g, ms: performance.now() - start };
    });

    // Latents from other seeds, correlations at full resolution.
    const correlations = picked.map((l) => new MapCorrelations(l.outputShape![1] as number));
    t0 = performance.now();
    for await (const sample of activationSamples(model, paths, SAMPLES, 1000)) {
      for (const [i, path] of paths.entries()) correlations[i]!.add(sample[path]!.data);
    }
    const freshMs = performance.now() - t0;
    t.diagnostic(`${file}: ${SAMPLES} samples of both layers in ${sampleMs.toFixed(0)} ms, ${SAMPLES} fresh ones and their correlations in ${freshMs.toFixed(0)} ms`);

    for (const [i, l] of picked.entries()) {
      const { g, ms } = groups[i]!;
      const [, channels, height, width] = l.outputShape as number[];
      assertPartition(g, channels!, defaultClusterCount(channels!));
      assert.deepEqual(channelGroups(pooled[i]!, pooledDims[i]!, { seed: 1 }), g, 'same samples, same groups');
      const figures = (['per map', 'all values'] as const).map((kind) => {
        const corr = correlations[i]!;
        const rand = mulberry32(17 + i);
        const draws = Array.from({ length: RANDOM_DRAWS }, () => {
          const order = shuffled(channels!, rand);
          let at = 0;
          return corr.withinSets(
            g.clusters.map((c) => order.slice(at, (at += c.length))),
            kind,
          );
        });
        return { kind, within: corr.withinSets(g.clusters, kind), random: draws.reduce((a, b) => a + b, 0) / draws.length, max: Math.max(...draws) };
      });
      t.diagnostic(
        `${file} ${l.path} [${channels}, ${height}, ${width}] pooled to ${pooledDims[i]!.slice(2).join('x')}, grouped in ${ms.toFixed(0)} ms; clusters ${g.clusters.map((c) => c.length).join('/')}; ` +
          `PC1-3 explain ${g.explained
            .slice(0, 3)
            .map((e) => (100 * e).toFixed(1) + '%')
            .join(', ')}`,
      );
      for (const f of figures) {
        t.diagnostic(`  ${f.kind}: within clusters ${f.within.toFixed(3)}, random sets of the same sizes ${f.random.toFixed(3)} (highest of ${RANDOM_DRAWS} draws ${f.max.toFixed(3)})`);
        assert.ok(f.within > f.random, `${l.path} ${f.kind}: within ${f.within} > random ${f.random}`);
      }
    }
  });
}

test('stylegan2-64-tiny.onnx: the cache computes a layer once, shares a computation under way, and refuses layers without channel maps', async (t) => {
  const model = await openFixture(t, 'stylegan2-64-tiny.onnx');
  const [a, b] = midLayers(model.tree) as [Layer, Layer];
  const cache = new ChannelGroupCache(model, { samples: 12, seed: 1 });
  t.after(() => cache.dispose());
  await assert.rejects(cache.get('G.mapping.fc0'), /layer G\.mapping\.fc0 hands on \[1, 512\], not a \[1, C, H, W\] feature map/);
  await assert.rejects(cache.get('G.nonesuch'), /no layer "G\.nonesuch"/);
  assert.equal(cache.sampled, 0, 'a refused layer starts no sampling');
  // Two asks at once, one by a short name, share one computation.
  const t0 = performance.now();
  const [first, again] = await Promise.all([cache.get(a.path), cache.get(a.path.split('.').slice(-2).join('.'))]);
  t.diagnostic(`${a.path}: sampled (12 latents, a fresh session) and grouped (in a worker) in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(first, again);
  assert.equal(cache.sampled, 1);
  const second = await cache.get(b.path);
  assert.equal(cache.sampled, 2);
  assert.equal(await cache.get(a.path), first, 'a later ask gets the kept groups');
  assert.equal(await cache.get(b.path), second);
  assert.equal(cache.sampled, 2);
});

test("the cache's groups are the maths on the seeded samples it drew (worker, pooling on arrival)", async (t) => {
  const model = await openFixture(t, 'stylegan2-64-tiny.onnx');
  // 64 x 64 maps: the worker pools each sample to 16 x 16 as it arrives.
  const layer = 'G.synthesis.b64.conv0';
  const cache = new ChannelGroupCache(model, { samples: 12, seed: 5, clusters: 4 });
  const cached = await cache.get(layer);
  await cache.dispose();
  await assert.rejects(cache.get(layer), /the cache is disposed/);
  // Disposed mid-computation: the ask rejects and the session and worker are gone (else this file would not exit).
  const other = new ChannelGroupCache(model, { samples: 12 });
  const pending = other.get(layer);
  await other.dispose();
  await assert.rejects(pending, /disposed while grouping G\.synthesis\.b64\.conv0/);
  const held: Float32Array[] = [];
  let dims: number[] = [];
  for await (const s of activationSamples(model, [layer], 12, 5)) {
    held.push(s[layer]!.data);
    dims = s[layer]!.dims;
  }
  assert.deepEqual(dims, [1, 32, 64, 64]);
  assert.deepEqual(cached, channelGroups(held, dims, { seed: 5, clusters: 4 }));
});

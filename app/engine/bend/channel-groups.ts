// Channel selections that need data (issue #12): clusters of channels that fire together, as
// Broad, Leymarie and Grierson's Network Bending groups a layer's features by their spatial
// activation maps, and the channels that carry a principal component of the layer. Pure math over
// activation samples; channel-sampler.ts collects them and runs this off the frame path.
//
// Everything comes from one C x C matrix: the mean over samples of each sample's map-to-map
// Pearson correlation. A channel's vector is its maps over all samples, each map centred and
// scaled, so two channels' squared distance is 2 - 2 * that mean and k-means on the vectors
// clusters by spatial correlation. Each map is centred on its own, not all of a channel's values
// at once, because the level a latent's style sets for a whole channel is, over 16 samples, a
// 16-point correlation, mostly noise, and it swamped the spatial one: on stylegan3t-128-tiny's L9
// (76 channels), clusters centred globally held channels correlating 0.05 on fresh latents against
// 0.03 for random sets of the same sizes (95th percentile 0.05); centred per map, 0.10.
//
// The libraries, measured here (2 cores) at C = 512 with 2048 values a channel: ml-matrix's mmul
// forms the matrix in 2.3 s against 0.41 s for the plain loop below; ml-kmeans needs explicit
// coordinates, the vectors themselves (0.87 s for one run that stopped after 2 iterations) or a
// full eigendecomposition, and ml-pca's takes 1.5-2 s (its NIPALS: 260 s for 16 components). So
// k-means runs on the matrix itself (the same Lloyd iterations, O(C^2) each) and the leading
// components come from subspace iteration, with ml-matrix's EVD for the small projected problem;
// the tests check both against ml-kmeans and ml-pca.
import { EVD, Matrix } from 'ml-matrix';
import { gaussianArray, mulberry32 } from '../../core/seeded-random.ts';

export interface ChannelGroups {
  /** C of the layer's [1, C, H, W] output. */
  channels: number;
  /** k clusters of channel indices, each sorted, every channel in exactly one; ordered by their lowest channel. */
  clusters: number[][];
  /** Per principal component, largest first: every channel index, by |loading| descending. */
  components: number[][];
  /** Each component's share of the variance of all the channels, their maps standardised. */
  explained: number[];
}

export interface ChannelGroupOptions {
  /** Number of clusters; default defaultClusterCount(C). */
  clusters?: number;
  /** Number of principal components kept; default min(8, C). */
  components?: number;
  /** Seeds k-means++ and the subspace iteration: same samples and seed, same groups. */
  seed?: number;
  /** k-means runs from different starts; the one with the least inertia is kept. */
  restarts?: number;
}

/** About 16 channels a cluster, at most 8 clusters: a handful a performer can name and pick from. */
export function defaultClusterCount(channels: number): number {
  return Math.max(1, Math.min(8, Math.floor(channels / 4)));
}

const MAX_SIDE = 16;
/**
 * Multiply-adds allowed for the correlation matrix (C^2 / 2 per value of a channel's vector):
 * about 0.5 s here. A 512-channel layer over 32 samples keeps 7 x 7 maps; 128 channels keep 16 x 16.
 */
const GRAM_BUDGET = 2.6e8;

/** The spatial size each sample's maps are average-pooled to: at most 16 a side, less for wide layers. */
export function pooledSize(channels: number, samples: number, height: number, width: number): [number, number] {
  for (let side = MAX_SIDE; side > 1; side--) {
    const h = Math.min(height, side);
    const w = Math.min(width, side);
    if ((channels * channels * samples * h * w) / 2 <= GRAM_BUDGET) return [h, w];
  }
  return [1, 1];
}

export function channelGroups(samples: readonly Float32Array[], dims: readonly number[], opts: ChannelGroupOptions = {}): ChannelGroups {
  if (dims.length !== 4 || dims[0] !== 1) throw new Error(`channel groups need [1, C, H, W] activations, got [${dims.join(', ')}]`);
  const [, channels, height, width] = dims as [number, number, number, number];
  if (samples.length === 0) throw new Error('channel groups need at least one activation sample');
  for (const [i, s] of samples.entries()) {
    if (s.length !== channels * height * width) throw new Error(`activation sample ${i} holds ${s.length} values, not ${channels}x${height}x${width}`);
  }
  const k = opts.clusters ?? defaultClusterCount(channels);
  if (!Number.isInteger(k) || k < 1 || k > channels) throw new Error(`cannot make ${k} clusters of ${channels} channels`);
  const wanted = Math.min(opts.components ?? 8, channels);
  const seed = opts.seed ?? 0;

  const [h, w] = pooledSize(channels, samples.length, height, width);
  const z = standardisedMaps(
    samples.map((s) => poolMaps(s, dims, h, w)),
    channels,
    h * w,
  );
  const n = samples.length * h * w;
  const corr = gram(z, channels, n);
  const labels = bestClustering(corr, channels, k, seed, opts.restarts ?? 8);
  const clusters: number[][] = Array.from({ length: k }, () => []);
  for (let c = 0; c < channels; c++) clusters[labels[c]!]!.push(c);
  clusters.sort((a, b) => a[0]! - b[0]!);

  // Principal components of the channels as variables, observed at every pooled position of every
  // sample (each sample's maps standardised, as for the clusters). A component is a pattern of
  // channels that rise and fall together across the image, in every latent, and its largest
  // loadings are the channels that carry it: those are what a bend on "component i" should move.
  // Per-sample channel means would give at most N - 1 components from N points (rank-deficient at
  // C = 128, N = 16) and drop the spatial layout that rotate, blur and translate act on.
  // Standardised maps keep a few loud channels from owning every component and match what the
  // clusters are made from.
  let total = 0;
  for (let c = 0; c < channels; c++) total += corr[c * channels + c]!;
  const { values, vectors } = leadingEigenpairs(corr, channels, wanted, seed);
  const components: number[][] = [];
  const explained: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const share = total > 0 ? values[i]! / total : 0;
    // A component with no variance is numerical noise, not a pattern of the layer.
    if (share < 1e-9) break;
    const v = vectors[i]!;
    components.push(Array.from({ length: channels }, (_, c) => c).sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b));
    explained.push(share);
  }
  return { channels, clusters, components, explained };
}

/**
 * One sample's maps average-pooled to h x w, [C, h, w] (bins as adaptive average pooling makes
 * them); the sampler pools each sample as it arrives, so a large layer's full maps are never all held.
 */
export function poolMaps(sample: Float32Array, dims: readonly number[], h: number, w: number): Float32Array {
  const [, channels, height, width] = dims as [number, number, number, number];
  if (h === height && w === width) return sample;
  const bins = (size: number, out: number) => Array.from({ length: out }, (_, i) => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)] as const);
  const rows = bins(height, h);
  const cols = bins(width, w);
  const plane = height * width;
  const out = new Float32Array(channels * h * w);
  let at = 0;
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (const [r0, r1] of rows) {
      for (const [c0, c1] of cols) {
        let sum = 0;
        for (let y = r0; y < r1; y++) {
          const row = base + y * width;
          for (let x = c0; x < c1; x++) sum += sample[row + x]!;
        }
        out[at++] = sum / ((r1 - r0) * (c1 - c0));
      }
    }
  }
  return out;
}

/**
 * Channel-major rows (C x N*h*w) of the pooled maps, each sample's map centred and scaled to norm
 * 1/sqrt(N), so a row has unit norm and two rows' inner product is the mean over samples of their
 * maps' Pearson correlation. A map that is constant in a sample stays zero there: it correlates
 * with nothing.
 */
function standardisedMaps(pooled: readonly Float32Array[], channels: number, plane: number): Float64Array {
  const count = pooled.length;
  const n = count * plane;
  const z = new Float64Array(channels * n);
  for (const [s, data] of pooled.entries()) {
    for (let c = 0; c < channels; c++) {
      const map = z.subarray(c * n + s * plane, c * n + (s + 1) * plane);
      map.set(data.subarray(c * plane, (c + 1) * plane));
      let sum = 0;
      let raw = 0;
      for (let i = 0; i < plane; i++) {
        sum += map[i]!;
        raw += map[i]! * map[i]!;
      }
      const mean = sum / plane;
      let sq = 0;
      for (let i = 0; i < plane; i++) {
        map[i] = map[i]! - mean;
        sq += map[i]! * map[i]!;
      }
      // Relative to the raw energy: pooling a constant map leaves rounding noise, not a signal.
      if (sq <= 1e-18 * raw || sq === 0) map.fill(0);
      else {
        const scale = 1 / Math.sqrt(sq * count);
        for (let i = 0; i < plane; i++) map[i] = map[i]! * scale;
      }
    }
  }
  return z;
}

/** Z Z^T for C rows of n values; four rows at a time so each value of row a is loaded once per four products. */
function gram(z: Float64Array, rows: number, n: number): Float64Array {
  const g = new Float64Array(rows * rows);
  for (let a = 0; a < rows; a++) {
    const oa = a * n;
    let b = a;
    for (; b + 3 < rows; b += 4) {
      const o0 = b * n;
      const o1 = o0 + n;
      const o2 = o1 + n;
      const o3 = o2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        const x = z[oa + i]!;
        s0 += x * z[o0 + i]!;
        s1 += x * z[o1 + i]!;
        s2 += x * z[o2 + i]!;
        s3 += x * z[o3 + i]!;
      }
      g[a * rows + b] = g[b * rows + a] = s0;
      g[a * rows + b + 1] = g[(b + 1) * rows + a] = s1;
      g[a * rows + b + 2] = g[(b + 2) * rows + a] = s2;
      g[a * rows + b + 3] = g[(b + 3) * rows + a] = s3;
    }
    for (; b < rows; b++) {
      const ob = b * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += z[oa + i]! * z[ob + i]!;
      g[a * rows + b] = g[b * rows + a] = s;
    }
  }
  return g;
}

/** Squared distance between points a and b given only their inner products. */
function dist2(g: Float64Array, n: number, a: number, b: number): number {
  return Math.max(0, g[a * n + a]! + g[b * n + b]! - 2 * g[a * n + b]!);
}

/** Greedy k-means++ (each new centre is the best of a few draws, as scikit-learn does), on inner products. */
function kmeansPlusPlus(g: Float64Array, n: number, k: number, rand: () => number): number[] {
  const centres = [Math.floor(rand() * n)];
  const closest = Float64Array.from({ length: n }, (_, a) => dist2(g, n, a, centres[0]!));
  const trials = 2 + Math.floor(Math.log(k));
  while (centres.length < k) {
    let potential = 0;
    for (let a = 0; a < n; a++) potential += closest[a]!;
    let best = -1;
    let bestPotential = Infinity;
    let bestClosest = closest;
    for (let t = 0; t < trials; t++) {
      let candidate = -1;
      if (potential > 0) {
        let r = rand() * potential;
        for (let a = 0; a < n && candidate < 0; a++) if ((r -= closest[a]!) <= 0 && closest[a]! > 0) candidate = a;
        if (candidate < 0) candidate = closest.findLastIndex((d) => d > 0);
      }
      // Every point sits on a centre already (identical channels): any other one will do.
      if (candidate < 0) candidate = Array.from({ length: n }, (_, a) => a).find((a) => !centres.includes(a)) ?? 0;
      const next = Float64Array.from(closest, (d, a) => Math.min(d, dist2(g, n, a, candidate)));
      let p = 0;
      for (let a = 0; a < n; a++) p += next[a]!;
      if (p < bestPotential) {
        bestPotential = p;
        best = candidate;
        bestClosest = next;
      }
    }
    centres.push(best);
    closest.set(bestClosest);
  }
  return centres;
}

/**
 * Lloyd's k-means on n points known only by their inner products `g` (n x n), started from the
 * points `initial` as centres. A centroid is the mean of its members, so a point's squared distance
 * to it is g[a][a] - 2 mean_b g[a][b] + mean_bb' g[b][b']: the same iterations as on the points
 * themselves, at O(n^2) each whatever their dimension. Exported for the test that checks it
 * against ml-kmeans on the points.
 */
export function kmeansOnGram(g: Float64Array, n: number, initial: readonly number[], maxIterations = 300): { labels: Int32Array; inertia: number; iterations: number } {
  const k = initial.length;
  const labels = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    let best = Infinity;
    for (let j = 0; j < k; j++) {
      const d = dist2(g, n, a, initial[j]!);
      if (d < best) {
        best = d;
        labels[a] = j;
      }
    }
  }
  const sums = new Float64Array(k * n); // sums[j*n + a] = sum over members b of j of g[a][b]
  const sizes = new Int32Array(k);
  const self = new Float64Array(k); // squared norm of centroid j
  const distance = (a: number, j: number) => Math.max(0, g[a * n + a]! - (2 * sums[j * n + a]!) / sizes[j]! + self[j]!);
  const centroids = () => {
    sums.fill(0);
    sizes.fill(0);
    for (let b = 0; b < n; b++) {
      const j = labels[b]!;
      sizes[j]!++;
      const row = b * n;
      const out = j * n;
      for (let a = 0; a < n; a++) sums[out + a] = sums[out + a]! + g[row + a]!;
    }
    self.fill(0);
    for (let a = 0; a < n; a++) self[labels[a]!] = self[labels[a]!]! + sums[labels[a]! * n + a]!;
    for (let j = 0; j < k; j++) if (sizes[j]! > 0) self[j] = self[j]! / (sizes[j]! * sizes[j]!);
  };
  // An emptied cluster takes the point farthest from its own centroid, so k clusters come back.
  const refill = () => {
    for (let j = 0; j < k; j++) {
      if (sizes[j]! > 0) continue;
      let far = -1;
      let farthest = -1;
      for (let a = 0; a < n; a++) {
        if (sizes[labels[a]!]! < 2) continue;
        const d = distance(a, labels[a]!);
        if (d > farthest) {
          farthest = d;
          far = a;
        }
      }
      if (far < 0) return;
      labels[far] = j;
      centroids();
    }
  };
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    centroids();
    refill();
    let changed = false;
    for (let a = 0; a < n; a++) {
      // Only a strictly nearer centroid moves a point: ties (identical channels) would undo refill().
      let best = distance(a, labels[a]!);
      let label = labels[a]!;
      for (let j = 0; j < k; j++) {
        if (sizes[j] === 0) continue;
        const d = distance(a, j);
        if (d < best) {
          best = d;
          label = j;
        }
      }
      if (label !== labels[a]) {
        labels[a] = label;
        changed = true;
      }
    }
    if (!changed) break;
  }
  centroids();
  refill();
  let inertia = 0;
  for (let a = 0; a < n; a++) inertia += distance(a, labels[a]!);
  return { labels, inertia, iterations };
}

function bestClustering(g: Float64Array, n: number, k: number, seed: number, restarts: number): Int32Array {
  let best: { labels: Int32Array; inertia: number } | undefined;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const rand = mulberry32((Math.imul(seed, 0x9e3779b1) + r) >>> 0);
    const run = kmeansOnGram(g, n, kmeansPlusPlus(g, n, k, rand));
    // Ties within rounding keep the earlier run, so the result does not hinge on the last bits.
    if (!best || run.inertia < best.inertia - 1e-9 * Math.max(1, best.inertia)) best = run;
  }
  return best!.labels;
}

/**
 * The m largest eigenvalues and their eigenvectors of the symmetric n x n matrix g, by subspace
 * iteration with a few spare vectors and Rayleigh-Ritz on the projected problem. With m + 8 >= n it
 * is a full eigendecomposition.
 */
function leadingEigenpairs(g: Float64Array, n: number, m: number, seed: number): { values: number[]; vectors: Float64Array[] } {
  const l = Math.min(n, m + 8);
  if (l === n) {
    const evd = new EVD(new Matrix(Array.from({ length: n }, (_, a) => g.subarray(a * n, (a + 1) * n))), { assumeSymmetric: true });
    return sortedPairs(evd.realEigenvalues, (i) => Float64Array.from(evd.eigenvectorMatrix.getColumn(i)), m);
  }
  let refill = seed;
  const noise = () => Float64Array.from(gaussianArray(n, (Math.imul(++refill, 0x85ebca6b) ^ 0x5bd1e995) >>> 0));
  let q = orthonormal(Array.from({ length: l }, noise), noise);
  let previous: number[] | undefined;
  for (let it = 0; it < 300; it++) {
    const y = q.map((v) => product(g, n, v));
    const b = new Matrix(l, l);
    for (let i = 0; i < l; i++) for (let j = i; j < l; j++) b.set(i, j, dot(q[i]!, y[j]!)).set(j, i, b.get(i, j));
    const evd = new EVD(b, { assumeSymmetric: true });
    const values = evd.realEigenvalues;
    const top = [...values].sort((x, z) => z - x).slice(0, m);
    const settled = previous && top.every((v, i) => Math.abs(v - previous![i]!) <= 1e-12 * Math.max(1e-300, Math.abs(top[0]!)));
    if (settled || it === 299) {
      const basis = q;
      return sortedPairs(
        values,
        (i) => {
          const out = new Float64Array(n);
          for (let j = 0; j < l; j++) {
            const c = evd.eigenvectorMatrix.get(j, i);
            const v = basis[j]!;
            for (let a = 0; a < n; a++) out[a] = out[a]! + c * v[a]!;
          }
          return out;
        },
        m,
      );
    }
    previous = top;
    q = orthonormal(y, noise);
  }
  throw new Error('unreachable');
}

function sortedPairs(values: number[], vector: (i: number) => Float64Array, m: number): { values: number[]; vectors: Float64Array[] } {
  const order = values
    .map((_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, m);
  return { values: order.map((i) => Math.max(0, values[i]!)), vectors: order.map(vector) };
}

/** Modified Gram-Schmidt; a vector that falls into the span of the others is replaced by fresh noise. */
function orthonormal(vectors: Float64Array[], noise: () => Float64Array): Float64Array[] {
  const out: Float64Array[] = [];
  for (const input of vectors) {
    let v: Float64Array = Float64Array.from(input);
    for (let attempt = 0; ; attempt++) {
      const before = Math.sqrt(dot(v, v));
      for (const u of out) {
        const p = dot(u, v);
        for (let a = 0; a < v.length; a++) v[a] = v[a]! - p * u[a]!;
      }
      const norm = Math.sqrt(dot(v, v));
      if (norm > 1e-10 * before && norm > 0) {
        for (let a = 0; a < v.length; a++) v[a] = v[a]! / norm;
        break;
      }
      if (attempt > 8) throw new Error('cannot extend an orthonormal basis');
      v = noise();
    }
    out.push(v);
  }
  return out;
}

function product(g: Float64Array, n: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    let s = 0;
    const row = a * n;
    for (let b = 0; b < n; b++) s += g[row + b]! * v[b]!;
    out[a] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

// Builds a full-size StyleGAN2 generator (the architecture of the paper's config F, written here
// from the paper's description, none of NVIDIA's code) with seeded random weights, for speed work:
// the GPU benches need StyleGAN2 at 256 and 1024 with real channel counts, and the fixtures are
// tiny. The graph has the exports' shape: an 8-layer mapping network to w, broadcast to ws
// [1, num_ws, 512], then blocks b4 ... b<res>, each with modulated 3x3 convs (styles from an
// affine of w, demodulation computed from the weight every frame, the upsampling conv as a
// transposed conv and a [1,3,3,1] blur), per-pixel noise, and a torgb whose images are summed
// through bilinear upsampling (the [1,3,3,1] filter). Names follow the exports
// (`G.synthesis.b64.conv0.weight`, `.affine.weight`), nodes carry module scopes, so netbend's layer
// tree, bending and W space work on it as on an export. Not trained: the pictures are noise-like.
// Run: `node --import tsx models/make-stylegan2.ts --size 1024 --out /tmp/sg2-1024.onnx`
// (about 120 MB at 1024, 100 MB at 256: kept out of the repository).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GraphBuilder, SeededRandom, attr } from '../app/engine/onnx/graph-builder.ts';

export interface StyleGan2Config {
  /** Output side, a power of two from 8. */
  resolution: number;
  /** Channels at a resolution: min(channelBase / res, channelMax) (config F: 32768 at 1024, 16384 at 256). */
  channelBase: number;
  channelMax: number;
  mappingLayers: number;
  seed: number;
}

const Z_DIM = 512;
const W_DIM = 512;
const SQRT2 = Math.SQRT2;

export function configFor(resolution: number): StyleGan2Config {
  return { resolution, channelBase: resolution >= 512 ? 32768 : 16384, channelMax: 512, mappingLayers: 8, seed: 20261202 };
}

/** Broadcast ws entries StyleGAN2 reads: one per conv and one for the last torgb. */
export function numWs(resolution: number): number {
  return 2 * Math.log2(resolution) - 2;
}

export function buildStyleGan2(c: StyleGan2Config): Uint8Array {
  const log2 = Math.log2(c.resolution);
  if (!Number.isInteger(log2) || log2 < 3) throw new Error(`resolution ${c.resolution}: a power of two from 8`);
  const channels = (res: number) => Math.min(Math.floor(c.channelBase / res), c.channelMax);
  const rng = new SeededRandom(c.seed);
  const g = new GraphBuilder({ opset: 17, producer: 'netbend make-stylegan2', docString: `StyleGAN2 (config F architecture) ${c.resolution}x${c.resolution}, seeded random weights` });
  const int64 = (...v: number[]) => g.constant(new BigInt64Array(v.map(BigInt)));
  const scalar = (v: number) => g.constant(new Float32Array([v]), []);

  // Mapping: normalise z's second moment, then fully connected layers with leaky ReLU (gain sqrt 2).
  const z = g.input('z', [1, Z_DIM]);
  const m = 'G.mapping';
  const ms = g.op('ReduceMean', [g.op('Mul', [z, z], {}, { scope: m })], { axes: attr.ints([1]), keepdims: attr.int(1) }, { scope: m });
  let x = g.op('Mul', [z, g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, scalar(1e-8)], {}, { scope: m })], {}, { scope: m })], {}, { scope: m })], {}, { scope: m });
  for (let i = 0; i < c.mappingLayers; i++) {
    const s = `${m}.fc${i}`;
    const inDim = i === 0 ? Z_DIM : W_DIM;
    const w = g.initializer(`${s}.weight`, rng.normal(W_DIM * inDim, 1 / Math.sqrt(inDim)), [W_DIM, inDim]);
    const b = g.initializer(`${s}.bias`, new Float32Array(W_DIM), [W_DIM]);
    const fc = g.op('Gemm', [x, w, b], { transB: attr.int(1) }, { scope: s, shapes: [[1, W_DIM]] });
    x = g.op('Mul', [g.op('LeakyRelu', [fc], { alpha: attr.float(0.2) }, { scope: s }), scalar(SQRT2)], {}, { scope: s, shapes: [[1, W_DIM]] });
  }
  const nWs = numWs(c.resolution);
  const ws = g.op('Expand', [g.op('Unsqueeze', [x, int64(1)], {}, { scope: m }), int64(1, nWs, W_DIM)], {}, { scope: m, shapes: [[1, nWs, W_DIM]] });
  const wAt = (i: number, scope: string) => g.op('Gather', [ws, g.constant(new BigInt64Array([BigInt(i)]), [])], { axis: attr.int(1) }, { scope, shapes: [[1, W_DIM]] });

  const styles = (scope: string, w: string, cin: number, gain = 1) => {
    const a = `${scope}.affine`;
    const aw = g.initializer(`${a}.weight`, rng.normal(cin * W_DIM, gain / Math.sqrt(W_DIM)), [cin, W_DIM]);
    const ab = g.initializer(`${a}.bias`, new Float32Array(cin).fill(gain), [cin]);
    return g.op('Gemm', [w, aw, ab], { transB: attr.int(1) }, { scope: a, shapes: [[1, cin]] });
  };

  /** A modulated 3x3 conv (demodulated), up=2 or not, then noise, bias and leaky ReLU. */
  const layer = (scope: string, input: string, w: string, cin: number, cout: number, res: number, up: boolean): string => {
    const s = styles(scope, w, cin);
    const weight = g.initializer(`${scope}.weight`, rng.normal(cout * cin * 9), [cout, cin, 3, 3]);
    // Demodulation: 1 / sqrt(sum over (cin, k, k) of (weight * style)^2 + eps), per output channel.
    const s4 = g.op('Reshape', [s, int64(1, cin, 1, 1)], {}, { scope });
    const sq = g.op('Pow', [g.op('Mul', [weight, s4], {}, { scope }), scalar(2)], {}, { scope });
    const sum = g.op('ReduceSum', [sq, int64(1, 2, 3)], { keepdims: attr.int(0) }, { scope, shapes: [[cout]] });
    const dcoefs = g.op('Reshape', [g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [sum, scalar(1e-8)], {}, { scope })], {}, { scope })], {}, { scope }), int64(1, cout, 1, 1)], {}, { scope });
    const xs = g.op('Mul', [input, s4], {}, { scope });
    let y: string;
    if (up) {
      const wt = g.op('Transpose', [weight], { perm: attr.ints([1, 0, 2, 3]) }, { scope });
      const t = g.op('ConvTranspose', [xs, wt], { strides: attr.ints([2, 2]) }, { scope, shapes: [[1, cout, res + 1, res + 1]] });
      y = g.op('Conv', [t, blur(cout)], { group: attr.int(cout), pads: attr.ints([1, 1, 1, 1]) }, { scope, shapes: [[1, cout, res, res]] });
    } else y = g.op('Conv', [xs, weight], { pads: attr.ints([1, 1, 1, 1]) }, { scope, shapes: [[1, cout, res, res]] });
    y = g.op('Mul', [y, dcoefs], {}, { scope });
    const noise = g.initializer(`${scope}.noise_const`, rng.normal(res * res), [1, 1, res, res]);
    const strength = g.initializer(`${scope}.noise_strength`, new Float32Array([0.05]), []);
    y = g.op('Add', [y, g.op('Mul', [noise, strength], {}, { scope })], {}, { scope });
    const bias = g.initializer(`${scope}.bias`, new Float32Array(cout), [cout]);
    y = g.op('Add', [y, g.op('Reshape', [bias, int64(1, cout, 1, 1)], {}, { scope })], {}, { scope });
    return g.op('Mul', [g.op('LeakyRelu', [y], { alpha: attr.float(0.2) }, { scope }), scalar(SQRT2)], {}, { scope, shapes: [[1, cout, res, res]] });
  };

  const blurs = new Map<number, string>();
  /** The [1,3,3,1] filter, outer product, gain 4 (up by 2), one per channel for a grouped conv. */
  function blur(ch: number): string {
    let name = blurs.get(ch);
    if (name) return name;
    const f = [1, 3, 3, 1];
    const k = new Float32Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) k[i * 4 + j] = (f[i]! * f[j]! * 4) / 64;
    name = g.constant(
      Float32Array.from({ length: ch * 16 }, (_, i) => k[i % 16]!),
      [ch, 1, 4, 4],
    );
    blurs.set(ch, name);
    return name;
  }

  const torgb = (scope: string, input: string, w: string, cin: number, res: number) => {
    const s = g.op('Reshape', [styles(scope, w, cin, 1 / Math.sqrt(cin)), int64(1, cin, 1, 1)], {}, { scope });
    const weight = g.initializer(`${scope}.weight`, rng.normal(3 * cin), [3, cin, 1, 1]);
    const bias = g.initializer(`${scope}.bias`, new Float32Array(3), [3]);
    return g.op('Conv', [g.op('Mul', [input, s], {}, { scope }), weight, bias], {}, { scope, shapes: [[1, 3, res, res]] });
  };

  let img: string | undefined;
  let feat = '';
  let wIdx = 0;
  for (let k = 2; k <= log2; k++) {
    const res = 2 ** k;
    const b = `G.synthesis.b${res}`;
    const cout = channels(res);
    if (k === 2) {
      const cst = g.initializer(`${b}.const`, rng.normal(cout * 16), [cout, 4, 4]);
      const x4 = g.op('Unsqueeze', [cst, int64(0)], {}, { scope: b, shapes: [[1, cout, 4, 4]] });
      feat = layer(`${b}.conv1`, x4, wAt(wIdx, `${b}.conv1`), cout, cout, res, false);
    } else {
      const cin = channels(res / 2);
      feat = layer(`${b}.conv0`, feat, wAt(wIdx, `${b}.conv0`), cin, cout, res, true);
      feat = layer(`${b}.conv1`, feat, wAt(wIdx + 1, `${b}.conv1`), cout, cout, res, false);
    }
    const convs = k === 2 ? 1 : 2;
    const y = torgb(`${b}.torgb`, feat, wAt(wIdx + convs, `${b}.torgb`), cout, res);
    const last = k === log2;
    const sum = (a: string, s: string) => g.op('Add', [a, s], {}, { scope: `${b}.torgb`, out: last ? 'img' : undefined, shapes: [[1, 3, res, res]] });
    if (!img) img = last ? g.op('Identity', [y], {}, { scope: `${b}.torgb`, out: 'img' }) : y;
    else {
      // Bilinear x2 with half-pixel centres is the [1,3,3,1] upsampling filter.
      const upImg = g.op('Resize', [img, '', g.constant(new Float32Array([1, 1, 2, 2]))], { mode: attr.string('linear') }, { scope: `${b}.torgb`, shapes: [[1, 3, res, res]] });
      img = sum(upImg, y);
    }
    wIdx += convs;
  }
  g.output('img', [1, 3, c.resolution, c.resolution]);
  return g.toBytes();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, out: { type: 'string' } } });
  const size = Number(values.size);
  const out = values.out ?? `stylegan2-${size}.onnx`;
  const bytes = buildStyleGan2(configFor(size));
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MB, StyleGAN2 ${size}x${size}, ${numWs(size)} ws)`);
}

// Builds models/default.onnx, the generator netbend plays when no model is given: a CPPN (a
// network of sines over pixel coordinates) steered by a StyleGAN-like mapping network, so it looks
// rich, moves smoothly as z moves, runs in a few ms on a laptop CPU, and has a real layer tree
// (G.mapping.fc0 ... G.synthesis.torgb) to tap and bend. Deterministic: same bytes on every run.
// Run: `npm run make:model` (node --import tsx models/make-default.ts [out.onnx]).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphBuilder, SeededRandom, attr } from '../app/engine/onnx/graph-builder.ts';

export const Z_DIM = 512;
const W_DIM = 256;
const LO = 128; // coarse layers run here: 4x fewer pixels than the output
const HI = 256;
const SEED = 20240611;

/** Weight gains, tuned by eye: higher `freq` = finer, busier patterns. */
export interface DefaultModelParams {
  mapGain: number;
  freq: number[]; // per synthesis layer: std of conv weights times sqrt(fan-in)
  phase: number[]; // per synthesis layer: std of the w -> phase affine (radians per unit w)
  mod: number[]; // per synthesis layer: std of the w -> gain affine (around 1)
  rgbGain: number;
  toneGain: number; // std of the tone field the palette reads: higher = more colour bands
  palette: number; // how far w swings the palette phases (radians)
  palGain: number;
}

export const DEFAULT_PARAMS: DefaultModelParams = {
  mapGain: 1.4,
  freq: [3.0, 2.0, 1.6, 3.5],
  phase: [1.0, 0.8, 0.6, 0.6],
  mod: [0.25, 0.2, 0.2, 0.15],
  rgbGain: 0.6,
  toneGain: 2.5,
  palette: 1.0,
  palGain: 1.3,
};

interface Layer {
  name: string;
  res: number;
  cout: number;
  act: 'Sin' | 'Tanh';
}

// L{i}_{resolution}_{channels}, as StyleGAN3 names its synthesis layers.
const LAYERS: Layer[] = [
  { name: 'L0_128_48', res: LO, cout: 48, act: 'Sin' },
  { name: 'L1_128_48', res: LO, cout: 48, act: 'Sin' },
  { name: 'L2_128_16', res: LO, cout: 16, act: 'Sin' },
  { name: 'L3_256_16', res: HI, cout: 16, act: 'Sin' },
];

/** Fixed coordinate features at LO: the CPPN's input. Smooth, so detail comes from the sines. */
function coordinateGrid(res: number): { data: Float32Array; channels: number } {
  // Off-centre distances break the radial symmetry a plain `r` would stamp on every picture.
  const d = (cx: number, cy: number) => (x: number, y: number) => Math.hypot(x - cx, y - cy);
  const feats: ((x: number, y: number) => number)[] = [
    (x) => x,
    (_, y) => y,
    (x, y) => 0.6 * Math.hypot(x, y),
    (x, y) => x * y,
    d(0.45, -0.3),
    d(-0.55, 0.5),
    (x) => Math.sin(Math.PI * x),
    (_, y) => Math.cos(Math.PI * y),
    (x, y) => Math.sin(Math.PI * (x + y)),
    (x, y) => Math.cos(2 * Math.PI * d(-0.2, -0.6)(x, y)),
  ];
  const data = new Float32Array(feats.length * res * res);
  feats.forEach((f, c) => {
    for (let i = 0; i < res; i++) {
      for (let j = 0; j < res; j++) {
        const x = ((j + 0.5) / res) * 2 - 1;
        const y = ((i + 0.5) / res) * 2 - 1;
        data[(c * res + i) * res + j] = f(x, y);
      }
    }
  });
  return { data, channels: feats.length };
}

export function buildDefaultModel(p: DefaultModelParams = DEFAULT_PARAMS): Uint8Array {
  const rng = new SeededRandom(SEED);
  const g = new GraphBuilder({ opset: 17, producer: 'netbend make-default', docString: 'netbend default CPPN generator (MIT)' });
  const z = g.input('z', [1, Z_DIM]);

  // Mapping: pixel-norm z (so gaussian or uniform latents of any scale land in the same place),
  // then two fully connected layers to a bounded style vector w.
  const m = 'G.mapping';
  const sq = g.op('Mul', [z, z], {}, { scope: m });
  const ms = g.op('ReduceMean', [sq], { axes: attr.ints([1]), keepdims: attr.int(1) }, { scope: m });
  const rms = g.op('Sqrt', [g.op('Add', [ms, g.constant(new Float32Array([1e-8]), [])], {}, { scope: m })], {}, { scope: m });
  let h = g.op('Div', [z, rms], {}, { scope: m });
  const fc = (name: string, x: string, inDim: number, outDim: number, gain: number) => {
    const s = `${m}.${name}`;
    const wt = g.initializer(`${s}.weight`, rng.normal(outDim * inDim, gain / Math.sqrt(inDim)), [outDim, inDim]);
    const b = g.initializer(`${s}.bias`, rng.normal(outDim, 0.1), [outDim]);
    return g.op('Gemm', [x, wt, b], { transB: attr.int(1) }, { scope: s, shapes: [[1, outDim]] });
  };
  h = g.op('LeakyRelu', [fc('fc0', h, Z_DIM, W_DIM, p.mapGain)], { alpha: attr.float(0.2) }, { scope: `${m}.fc0`, shapes: [[1, W_DIM]] });
  const w = g.op('Tanh', [fc('fc1', h, W_DIM, W_DIM, p.mapGain)], {}, { scope: `${m}.fc1`, out: 'w', shapes: [[1, W_DIM]] });

  // Synthesis input: the constant coordinate grid.
  const grid = coordinateGrid(LO);
  let x = g.initializer('G.synthesis.input.grid', grid.data, [1, grid.channels, LO, LO]);
  let cin = grid.channels;
  let res = LO;
  let coarse = '';

  LAYERS.forEach((L, i) => {
    const s = `G.synthesis.${L.name}`;
    const shape = [1, L.cout, L.res, L.res];
    if (L.res !== res) {
      // Upsample the coarse features; the sine after the next conv folds them into fine detail.
      const scales = g.constant(new Float32Array([1, 1, L.res / res, L.res / res]));
      x = g.op('Resize', [x, '', scales], { mode: attr.string('linear') }, { scope: s, shapes: [[1, cin, L.res, L.res]] });
      coarse = x;
      res = L.res;
    }
    // Style: per-channel gain (modulation) and phase (bias) from w. A small step in z is a small
    // phase shift and stretch of every sine, which is what makes latent walks flow.
    const aff = (kind: string, std: number, bias: number) => {
      const wt = g.initializer(`${s}.${kind}.weight`, rng.normal(L.cout * W_DIM, std / Math.sqrt(W_DIM)), [L.cout, W_DIM]);
      const b = g.initializer(`${s}.${kind}.bias`, new Float32Array(L.cout).fill(bias), [L.cout]);
      const v = g.op('Gemm', [w, wt, b], { transB: attr.int(1) }, { scope: `${s}.${kind}` });
      return g.op('Unsqueeze', [v, g.constant(new BigInt64Array([2n, 3n]))], {}, { scope: `${s}.${kind}`, shapes: [[1, L.cout, 1, 1]] });
    };
    const gain = aff('mod', p.mod[i]!, 1);
    const phase = aff('affine', p.phase[i]! * Math.sqrt(3), 0); // w is roughly uniform: std(w) ~ 1/sqrt(3)
    const weight = g.initializer(`${s}.weight`, rng.normal(L.cout * cin, p.freq[i]! / Math.sqrt(cin)), [L.cout, cin, 1, 1]);
    const bias = g.initializer(`${s}.bias`, rng.uniforms(L.cout, -Math.PI, Math.PI), [L.cout]);
    const conv = g.op('Conv', [x, weight, bias], {}, { scope: s, shapes: [shape] });
    const pre = g.op('Add', [g.op('Mul', [conv, gain], {}, { scope: s, shapes: [shape] }), phase], {}, { scope: s, shapes: [shape] });
    x = g.op(L.act, [pre], {}, { scope: s, shapes: [shape] });
    cin = L.cout;
  });

  // torgb sees the fine layer and the upsampled coarse features. Colour comes mostly from a
  // cosine palette (Quilez): one tone field t through sin(k*t + d), with the palette phases d
  // steered by w, so hues stay harmonious rather than independent-RGB noise; a direct 1x1 conv
  // adds some off-palette colour.
  const s = 'G.synthesis.torgb';
  const fullShape = [1, 3, HI, HI];
  const cat = cin * 2;
  const both = g.op('Concat', [coarse, x], { axis: attr.int(1) }, { scope: s, shapes: [[1, cat, HI, HI]] });
  const toneW = g.initializer(`${s}.tone.weight`, rng.normal(cat, p.toneGain / Math.sqrt(cat)), [1, cat, 1, 1]);
  const tone = g.op('Conv', [both, toneW], {}, { scope: `${s}.tone`, shapes: [[1, 1, HI, HI]] });
  const k = g.initializer(`${s}.palette.freq`, Float32Array.from([1, 1.3, 1.7], (v) => v * (1 + 0.2 * rng.gaussian())), [1, 3, 1, 1]);
  const palW = g.initializer(`${s}.palette.affine.weight`, rng.normal(3 * W_DIM, (p.palette * Math.sqrt(3)) / Math.sqrt(W_DIM)), [3, W_DIM]);
  const palB = g.initializer(`${s}.palette.affine.bias`, Float32Array.from([0, 2.1, 4.2]), [3]);
  const d = g.op('Unsqueeze', [g.op('Gemm', [w, palW, palB], { transB: attr.int(1) }, { scope: `${s}.palette` }), g.constant(new BigInt64Array([2n, 3n]))], {}, { scope: `${s}.palette` });
  const pal = g.op('Sin', [g.op('Add', [g.op('Mul', [tone, k], {}, { scope: `${s}.palette` }), d], {}, { scope: `${s}.palette` })], {}, { scope: `${s}.palette`, shapes: [fullShape] });
  const rgbW = g.initializer(`${s}.weight`, rng.normal(3 * cat, p.rgbGain / Math.sqrt(cat)), [3, cat, 1, 1]);
  const rgbB = g.initializer(`${s}.bias`, new Float32Array(3), [3]);
  const direct = g.op('Conv', [both, rgbW, rgbB], {}, { scope: s, shapes: [fullShape] });
  const mix = g.op('Add', [g.op('Mul', [pal, g.constant(new Float32Array([p.palGain]), [])], {}, { scope: s }), direct], {}, { scope: s, shapes: [fullShape] });
  g.op('Tanh', [mix], {}, { scope: s, out: 'img' });
  g.output('img', [1, 3, HI, HI]);
  return g.toBytes();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('./default.onnx', import.meta.url));
  const bytes = buildDefaultModel();
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${(bytes.length / 1024).toFixed(0)} KiB)`);
}

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
const LO = 64; // the grid and first layers: 16x fewer pixels than the output, and smooth anyway
const HI = 256;
const SEED = 20240611;
/** 1 / rms of w's entries (measured: 0.52 for gaussian or uniform z), so style stds read in output units. */
const W_STD_INV = 1 / 0.52;

/** Weight gains, tuned by eye: higher `freq` = finer, busier patterns. */
export interface DefaultModelParams {
  mapGain: number;
  inputMod: number; // spread of the per-latent weighting of grid features (around 1)
  freq: number[]; // per synthesis layer: std of conv weights times sqrt(fan-in)
  phase: number[]; // per synthesis layer: std of the w -> phase affine (radians per unit w)
  mod: number[]; // per synthesis layer: std of the w -> gain affine (around 1)
  shadeGain: number;
  toneGain: number; // std of the tone field the palette reads: higher = more colour bands
  palette: number; // how far w swings the palette phases (radians)
  palGain: number;
  palAmp: number; // spread of palette amplitude across latents (around 1)
  palOffset: number; // spread of palette offsets: pastel vs dark
  maskGain: number; // sharpness of the calm/detailed regions
  maskBias: number; // below 0: more calm than detail
  detailGain: number; // how hard the fine ripples push the tone
}

export const DEFAULT_PARAMS: DefaultModelParams = {
  mapGain: 1.0,
  inputMod: 0.6,
  freq: [1.3, 1.8, 3, 8],
  phase: [0.7, 0.6, 0.5, 0.5],
  mod: [0.25, 0.2, 0.2, 0.15],
  toneGain: 3.5,
  palette: 1.5,
  palGain: 1.1,
  palAmp: 0.25,
  palOffset: 0.3,
  maskGain: 3,
  maskBias: 0.25,
  detailGain: 3.5,
  shadeGain: 0.8,
};

interface Layer {
  name: string;
  res: number;
  cout: number;
}

// L{i}_{resolution}_{channels}, as StyleGAN3 names its synthesis layers.
const LAYERS: Layer[] = [
  { name: 'L0_64_48', res: 64, cout: 48 },
  { name: 'L1_64_32', res: 64, cout: 32 },
  { name: 'L2_128_16', res: 128, cout: 16 },
  { name: 'L3_256_8', res: 256, cout: 8 },
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

  // A per-channel style vector [1,C,1,1] from w (StyleGAN's "affine"): w has roughly unit-ish
  // spread, so `std` is about how far the value swings across latents.
  const style = (scope: string, c: number, std: number, bias: number | number[]) => {
    const wt = g.initializer(`${scope}.weight`, rng.normal(c * W_DIM, (std * W_STD_INV) / Math.sqrt(W_DIM)), [c, W_DIM]);
    const b = g.initializer(`${scope}.bias`, typeof bias === 'number' ? new Float32Array(c).fill(bias) : Float32Array.from(bias), [c]);
    const v = g.op('Gemm', [w, wt, b], { transB: attr.int(1) }, { scope });
    return g.op('Unsqueeze', [v, g.constant(new BigInt64Array([2n, 3n]))], {}, { scope, shapes: [[1, c, 1, 1]] });
  };

  // Synthesis input: the constant coordinate grid.
  const grid = coordinateGrid(LO);
  const gridT = g.initializer('G.synthesis.input.grid', grid.data, [1, grid.channels, LO, LO]);
  // w reweights the grid features (StyleGAN3's input also takes an affine of w): which centres,
  // rings and diagonals dominate changes from latent to latent, so compositions differ too.
  const inputStyle = style('G.synthesis.input.affine', grid.channels, p.inputMod, 1);
  let x = g.op('Mul', [gridT, inputStyle], {}, { scope: 'G.synthesis.input', shapes: [[1, grid.channels, LO, LO]] });
  let cin = grid.channels;
  let res = LO;
  let coarse = ''; // the last layer before the full-resolution one
  let coarseC = 0;
  let coarseRes = 0;

  LAYERS.forEach((L, i) => {
    const s = `G.synthesis.${L.name}`;
    const shape = [1, L.cout, L.res, L.res];
    if (L.res !== res) {
      // Upsample the coarse features; the sine after the next conv folds them into fine detail.
      const scales = g.constant(new Float32Array([1, 1, L.res / res, L.res / res]));
      if (L.res === HI) [coarse, coarseC, coarseRes] = [x, cin, res];
      x = g.op('Resize', [x, '', scales], { mode: attr.string('linear') }, { scope: s, shapes: [[1, cin, L.res, L.res]] });
      res = L.res;
    }
    // Style: per-channel gain (modulation) and phase (bias) from w. A small step in z is a small
    // phase shift and stretch of every sine, which is what makes latent walks flow.
    const gain = style(`${s}.mod`, L.cout, p.mod[i]!, 1);
    const phase = style(`${s}.affine`, L.cout, p.phase[i]!, 0);
    const weight = g.initializer(`${s}.weight`, rng.normal(L.cout * cin, p.freq[i]! / Math.sqrt(cin)), [L.cout, cin, 1, 1]);
    const bias = g.initializer(`${s}.bias`, rng.uniforms(L.cout, -Math.PI, Math.PI), [L.cout]);
    const conv = g.op('Conv', [x, weight, bias], {}, { scope: s, shapes: [shape] });
    const pre = g.op('Add', [g.op('Mul', [conv, gain], {}, { scope: s, shapes: [shape] }), phase], {}, { scope: s, shapes: [shape] });
    x = g.op('Sin', [pre], {}, { scope: s, shapes: [shape] });
    cin = L.cout;
  });

  // torgb: colour comes from a cosine palette (Quilez): a tone field t through sin(k*t + d),
  // with the palette phases d steered by w, so hues stay harmonious instead of independent-RGB
  // noise. The tone is the coarse features plus the fine layer's ripples, gated by a coarse
  // mask: calm regions next to detailed ones, rather than one texture everywhere. The three
  // coarse fields (tone, mask, shade) are smooth, so they are computed at the coarse layer's
  // resolution and upsampled: cheaper, and the coarse layer's tap stays its own activation.
  const s = 'G.synthesis.torgb';
  const full = (c: number) => [1, c, HI, HI];
  const fieldStd = [p.toneGain, p.maskGain, p.shadeGain];
  const fieldsW = g.initializer(
    `${s}.fields.weight`,
    Float32Array.from({ length: 3 * coarseC }, (_, i) => (rng.gaussian() * fieldStd[Math.floor(i / coarseC)]!) / Math.sqrt(coarseC)),
    [3, coarseC, 1, 1],
  );
  const fieldsB = g.initializer(`${s}.fields.bias`, Float32Array.from([0, p.maskBias, 0]), [3]);
  const fieldsLo = g.op('Conv', [coarse, fieldsW, fieldsB], {}, { scope: `${s}.fields`, shapes: [[1, 3, coarseRes, coarseRes]] });
  const fields = g.op('Resize', [fieldsLo, '', g.constant(new Float32Array([1, 1, HI / coarseRes, HI / coarseRes]))], { mode: attr.string('linear') }, { scope: `${s}.fields`, shapes: [full(3)] });
  const [toneCoarse, maskLogit, shade] = g.node('Split', [fields], 3, { axis: attr.int(1) }, { scope: `${s}.fields`, shapes: [full(1), full(1), full(1)] }) as [string, string, string];
  const mask = g.op('Sigmoid', [maskLogit], {}, { scope: `${s}.fields`, shapes: [full(1)] });
  const detailW = g.initializer(`${s}.detail.weight`, rng.normal(cin, p.detailGain / Math.sqrt(cin)), [1, cin, 1, 1]);
  const detail = g.op('Conv', [x, detailW], {}, { scope: `${s}.detail`, shapes: [full(1)] });
  const tone = g.op('Add', [toneCoarse, g.op('Mul', [mask, detail], {}, { scope: s, shapes: [full(1)] })], {}, { scope: s, shapes: [full(1)] });
  const ps = `${s}.palette`;
  const k = g.initializer(
    `${ps}.freq`,
    Float32Array.from([1, 1.15, 1.3], (v) => v * (1 + 0.05 * rng.gaussian())),
    [1, 3, 1, 1],
  );
  // Phases a third of a turn apart give the full hue circle; w turns it, and sets each channel's
  // amplitude and offset, so one latent is pastel, another dark and saturated.
  const phases = style(`${ps}.affine`, 3, p.palette, [0, 2.1, 4.2]);
  const amp = style(`${ps}.amp`, 3, p.palAmp, 1);
  const offset = style(`${ps}.offset`, 3, p.palOffset, 0);
  const wave = g.op('Sin', [g.op('Add', [g.op('Mul', [tone, k], {}, { scope: ps }), phases], {}, { scope: ps })], {}, { scope: ps, shapes: [full(3)] });
  const pal = g.op('Add', [g.op('Mul', [wave, amp], {}, { scope: ps }), offset], {}, { scope: ps, shapes: [full(3)] });
  // Light and shade: one field added to all three channels, so regions go dark or pale without
  // leaving the palette's hues.
  const mix = g.op('Add', [g.op('Mul', [pal, g.constant(new Float32Array([p.palGain]), [])], {}, { scope: s }), shade], {}, { scope: s, shapes: [full(3)] });
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

// Issue 16's GPU figures: `node --import tsx bench/gpu.ts --ep webgpu [--sizes 256,1024] [--seconds 8]
// [--model extra.onnx ...]`. For each model, on one execution provider, side by side in one run:
// a bare onnxruntime loop, netbend's engine playing it, and netbend fully bent (every layer
// blending toward a partner with the amount animated each frame, three animated edits, one tap).
// Models: full-size StyleGAN2 built here by models/make-stylegan2.ts (a partner from another seed),
// plus any given. Writes bench/results/gpu-<ep>.json naming the machine (nvidia-smi where there is
// one). Runs anywhere (`--ep cpu --sizes 64` checks the bench itself on a CPU machine).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from '../app/engine/inference/ort.ts';
import { Engine } from '../app/engine/engine.ts';
import { BLEND_ALL } from '../app/engine/bend/bend-plan.ts';
import type { EpChoice } from '../app/engine/inference/protocol.ts';
import { buildStyleGan2, configFor } from '../models/make-stylegan2.ts';
import { writeResult } from './util.ts';

const { values: args } = parseArgs({
  options: {
    ep: { type: 'string', default: 'webgpu' },
    sizes: { type: 'string', default: '256,1024' },
    seconds: { type: 'string', default: '8' },
    model: { type: 'string', multiple: true, default: [] },
  },
});
const ep = args.ep as EpChoice;
const seconds = Number(args.seconds);

function gpuName(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
  } catch {
    return 'none (no nvidia-smi)';
  }
}

/** A StyleGAN2 of this size and its partner (same architecture, another seed), built once into the temp folder. */
function generated(size: number): { file: string; partner: string } {
  const dir = join(tmpdir(), 'netbend-gpu-models');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `stylegan2-${size}.onnx`);
  const partner = join(dir, `stylegan2-${size}-b.onnx`);
  if (!existsSync(file)) writeFileSync(file, buildStyleGan2(configFor(size)));
  if (!existsSync(partner)) writeFileSync(partner, buildStyleGan2({ ...configFor(size), seed: configFor(size).seed + 1 }));
  return { file, partner };
}

/** Frames per second of `frame` over `seconds` (after 5 warm-up frames). */
async function rate(frame: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await frame();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await frame();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

async function benchModel(file: string, partner: string | undefined): Promise<Record<string, unknown>> {
  const bare = await ort.InferenceSession.create(file, { executionProviders: [ep === 'auto' ? 'cpu' : ep], graphOptimizationLevel: 'all' });
  const zs = Array.from(
    { length: 8 },
    (_, k) =>
      new ort.Tensor(
        'float32',
        new Float32Array(512).map((_, i) => Math.sin(i * (k + 1))),
        [1, 512],
      ),
  );
  let k = 0;
  const bareFps = await rate(() => bare.run({ [bare.inputNames[0]!]: zs[k++ % zs.length]! }));
  await bare.release();
  const { engine, warnings } = await Engine.open({ model: file, ep });
  let index = 0;
  const play = () => engine.render({ index: index++, time: index / 30, dt: 1 / 30 });
  const netbendFps = await rate(play);
  const out: Record<string, unknown> = { bareFps, netbendFps, ratioNetbendOverBare: netbendFps / bareFps, ep: engine.ep, warnings };
  if (partner) {
    await engine.loadPartner(partner);
    const [conv, any] = [engine.tree.all().find((l) => /\.conv1$/.test(l.path)), engine.tree.all().find((l) => /\.conv0$/.test(l.path))];
    const targets = [conv?.path, any?.path, engine.tree.all().find((l) => /b32\.conv1$|b16\.conv1$/.test(l.path))?.path].filter((p): p is string => !!p);
    const edits = [engine.addEdit(targets[0]!, 'scale', 1.2), engine.addEdit(targets[1] ?? targets[0]!, 'noise', 0.1), engine.addEdit(targets[2] ?? targets[0]!, 'ablate', 0.2)];
    engine.setTaps([targets[0]!]);
    await engine.settled();
    const bent = () => {
      const time = index / 30;
      engine.params.set(BLEND_ALL, 0.5 + 0.5 * Math.sin(time), 'modulator');
      edits.forEach((id, j) => engine.params.set(`/netbend/edit/${id}/amount`, 0.2 + 0.1 * j + 0.05 * Math.sin(time * (j + 1)), 'modulator'));
      return play();
    };
    const bentFps = await rate(bent);
    Object.assign(out, {
      bentFps,
      ratioBentOverBare: bentFps / bareFps,
      bentWorkload: `blend all (animated) toward ${basename(partner)}, scale/noise/ablate on ${targets.join(', ')} (animated), tap ${targets[0]}`,
    });
  }
  await engine.close();
  return out;
}

const results: Record<string, unknown> = {};
const sizes = args.sizes
  .split(',')
  .filter(Boolean)
  .map((s) => Number(s));
for (const size of sizes) {
  const { file, partner } = generated(size);
  console.log(`gpu bench: stylegan2-${size} on ${ep}`);
  results[`stylegan2-${size} (generated)`] = await benchModel(file, partner);
  console.log(JSON.stringify(results[`stylegan2-${size} (generated)`]));
}
for (const file of args.model) {
  console.log(`gpu bench: ${basename(file)} on ${ep}`);
  results[basename(file)] = await benchModel(file, undefined);
  console.log(JSON.stringify(results[basename(file)]));
}
writeResult(`gpu-${ep}`, {
  machine: { host: hostname(), gpu: gpuName(), cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
  ep,
  secondsPerMeasure: seconds,
  models: results,
});

// `--ep auto` on performers' machines: the providers it tries, best first, for the machines it may
// meet (the choice is a pure function of what the machine has), and on this one a real play. A
// provider asked for by name that this build lacks is one line naming how to get it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { autoCandidates, type EpProbe } from '../app/engine/inference/ep.ts';
import type { EpName } from '../app/engine/inference/protocol.ts';
import { cli, ROOT, tempDir } from './helpers.ts';

const machine = (o: Partial<EpProbe>): EpProbe => ({ platform: 'linux', nvidia: false, renderNode: false, tensorRt: false, ...o });
const all = () => true;
const only =
  (...eps: EpName[]) =>
  (ep: EpName) =>
    eps.includes(ep);

test('auto: TensorRT, then CUDA, then WebGPU on an NVIDIA Linux machine; DirectML and CoreML on theirs; the CPU last everywhere', () => {
  assert.deepEqual(autoCandidates(all, machine({ nvidia: true, tensorRt: true })), ['tensorrt', 'cuda', 'webgpu', 'cpu']);
  assert.deepEqual(autoCandidates(all, machine({ nvidia: true })), ['cuda', 'webgpu', 'cpu'], 'no TensorRT runtime: not tried');
  assert.deepEqual(autoCandidates(only('webgpu'), machine({ nvidia: true, tensorRt: true })), ['webgpu', 'cpu'], 'providers not installed (npm run install:cuda): not tried');
  assert.deepEqual(autoCandidates(all, machine({ renderNode: true })), ['webgpu', 'cpu'], 'another GPU: WebGPU');
  assert.deepEqual(autoCandidates(all, machine({})), ['cpu'], 'no GPU: SwiftShader WebGPU would be slower than the CPU');
  assert.deepEqual(autoCandidates(all, machine({ platform: 'win32' })), ['dml', 'webgpu', 'cpu']);
  assert.deepEqual(autoCandidates(only('coreml'), machine({ platform: 'darwin' })), ['coreml', 'cpu']);
});

test('auto plays on this machine; a provider this build lacks is one line naming how to get it', async (t) => {
  const dir = tempDir(t);
  const model = join(ROOT, 'models', 'default.onnx');
  const auto = await cli(['play', model, '--frames', '1', '--ep', 'auto', '--out', join(dir, 'auto')]);
  assert.equal(auto.code, 0, auto.stderr);
  const ep = JSON.parse(readFileSync(join(dir, 'auto', 'stats.json'), 'utf8')).ep as string;
  assert.ok(['cpu', 'cuda', 'tensorrt', 'webgpu'].includes(ep), ep);
  const trt = await cli(['play', model, '--frames', '1', '--ep', 'tensorrt', '--out', join(dir, 'trt')]);
  if (trt.code === 0) return; // a machine with the providers installed
  const lines = trt.stderr.trim().split('\n');
  assert.equal(lines.length, 1, trt.stderr);
  assert.match(lines[0]!, /execution provider tensorrt is not available .*npm run install:cuda/);
});

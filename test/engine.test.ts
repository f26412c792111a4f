// Issue 2: every fixture plays on the CPU with the right frame size, frames move and replay
// identically; unseen model kinds play; bad input fails with one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, fixture, tempDir, SWIFTSHADER_ICD } from './helpers.ts';
import { makeMlp, makeUnet } from './models/make-test-models.ts';

const readPng = (path: string) => PNG.sync.read(readFileSync(path));
const FIXTURE_SIZES: Array<[string, number]> = [
  ['stylegan2-64-tiny.onnx', 64],
  ['stylegan2-256-slim.onnx', 256],
  ['stylegan3t-128-tiny.onnx', 128],
  ['stylegan3r-64-tiny.onnx', 64],
];

for (const [name, size] of FIXTURE_SIZES) {
  test(`${name} plays on cpu: ${size}x${size}, moving, same seed same pixels`, async (t) => {
    const dir = tempDir(t);
    const run = (out: string) => cli(['play', fixture(name), '--frames', '2', '--fps', '2', '--seed', '7', '--ep', 'cpu', '--out', join(dir, out)]);
    // Side by side: nothing one run does may leak into the other.
    const [a, b] = await Promise.all([run('a'), run('b')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const f0 = readPng(join(dir, 'a', 'frame-00000.png'));
    const f1 = readPng(join(dir, 'a', 'frame-00001.png'));
    assert.equal(f0.width, size);
    assert.equal(f0.height, size);
    assert.notDeepEqual(f0.data, f1.data, 'frames change over time');
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < f0.data.length; i += 4) (lo = Math.min(lo, f0.data[i]!)), (hi = Math.max(hi, f0.data[i]!));
    // Randomly initialised StyleGAN3 nets are low in contrast (about 30 levels); never flat.
    assert.ok(hi - lo > 10, `the frame is not a flat colour (red spans ${lo}..${hi})`);
    for (const f of ['frame-00000.png', 'frame-00001.png']) {
      assert.deepEqual(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f)), `${f} identical across runs`);
    }
    const stats = JSON.parse(readFileSync(join(dir, 'a', 'stats.json'), 'utf8'));
    assert.equal(stats.ep, 'cpu');
    assert.deepEqual(stats.size, [size, size]);
    assert.equal(stats.range, '-1..1');
  });
}

test('a different seed gives a different picture', async (t) => {
  const dir = tempDir(t);
  const seeds = ['1', '2'];
  const runs = await Promise.all(seeds.map((seed) => cli(['play', fixture('stylegan2-64-tiny.onnx'), '--frames', '1', '--seed', seed, '--ep', 'cpu', '--out', join(dir, seed)])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.notDeepEqual(readPng(join(dir, '1', 'frame-00000.png')).data, readPng(join(dir, '2', 'frame-00000.png')).data);
});

test('inspect lists the StyleGAN3 layer tree from the graph', async () => {
  const r = await cli(['inspect', fixture('stylegan3t-128-tiny.onnx'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  const paths: string[] = [];
  const walk = (l: { path: string; children: unknown[] }) => (paths.push(l.path), l.children.forEach((c) => walk(c as typeof l)));
  info.layers.forEach(walk);
  for (const p of ['G.mapping', 'G.synthesis.input', 'G.synthesis.L0_36_128', 'G.synthesis.L6_84_128', 'G.synthesis.L14_128_3']) assert.ok(paths.includes(p), `${p} listed`);
  assert.deepEqual(info.inputs, [{ name: 'z', dtype: 'float32', shape: [1, 512] }]);
  assert.equal(info.opset, 20);
  assert.ok(info.weights.some((w: { name: string; shape: number[] }) => w.name === 'G.synthesis.L6_84_128.weight' && w.shape.join() === '128,128,3,3'));
});

test('inspect finds StyleGAN2 blocks, also in a graph without scope metadata', async () => {
  const names = ['stylegan2-64-tiny.onnx', 'stylegan2-64-tiny-b.onnx'];
  const runs = await Promise.all(names.map((name) => cli(['inspect', fixture(name)])));
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    for (const b of ['b4', 'b8', 'b16', 'b32', 'b64']) assert.match(r.stdout, new RegExp(`G\\.synthesis\\.${b}\\b`));
    for (const sub of ['b8.conv0', 'b8.conv1', 'b64.torgb']) assert.match(r.stdout, new RegExp(`G\\.synthesis\\.${sub.replace('.', '\\.')}`));
    assert.match(r.stdout, /G\.mapping/);
  }
});

test('an image-to-image U-Net it has never seen gives 128x128 frames', async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'unet.onnx');
  makeUnet(model);
  const r = await cli(['play', model, '--frames', '2', '--ep', 'cpu', '--out', join(dir, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  const f0 = readPng(join(dir, 'out', 'frame-00000.png'));
  const f1 = readPng(join(dir, 'out', 'frame-00001.png'));
  assert.equal(f0.width, 128);
  assert.equal(f0.height, 128);
  assert.notDeepEqual(f0.data, f1.data, 'the noise texture source animates the U-Net');
});

test('a tanh MLP [1,8] -> [1,32] reports its 32 outputs in stats.json', async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'mlp.onnx');
  makeMlp(model);
  const r = await cli(['play', model, '--frames', '3', '--ep', 'cpu', '--out', join(dir, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse(readFileSync(join(dir, 'out', 'stats.json'), 'utf8'));
  const values = Object.values(stats.outputs) as number[][];
  assert.equal(values.length, 1);
  assert.equal(values[0]!.length, 32);
  assert.ok(
    values[0]!.every((v) => Number.isFinite(v) && Math.abs(v) <= 1),
    'tanh outputs in [-1,1]',
  );
});

test('bad input: one clear line naming the file and the problem, non-zero exit', async (t) => {
  const dir = tempDir(t);
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(fixture('stylegan2-64-tiny.onnx')).subarray(0, 100_000));
  const text = join(dir, 'notes.onnx');
  writeFileSync(text, 'this is not a model\n'.repeat(50));
  const cases: Array<[string[], RegExp]> = [
    [['play', join(dir, 'missing.onnx'), '--out', dir], /missing\.onnx: file not found/],
    [['play', truncated, '--out', dir], /truncated\.onnx: not a valid ONNX model/],
    [['play', text, '--out', dir], /notes\.onnx: not (a valid )?(an )?ONNX model/],
    [['inspect', join(dir, 'missing.onnx')], /missing\.onnx: file not found/],
    [['play', fixture('stylegan2-64-tiny.onnx'), '--out', dir, '--ep', 'coreml'], /coreml is not available/],
    [['play', fixture('stylegan2-64-tiny.onnx'), '--out', dir, '--ep', 'quantum'], /quantum.*use one of/],
  ];
  // Independent runs, side by side.
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i]!;
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('an unsupported input shape is refused with the input named', async (t) => {
  const dir = tempDir(t);
  const { GraphBuilder } = await import('../app/engine/onnx/graph-builder.ts');
  const b = new GraphBuilder({ opset: 17 });
  b.input('volume', [1, 2, 3, 4, 5]);
  b.node('Relu', ['volume'], ['out']);
  b.output('out', [1, 2, 3, 4, 5]);
  const model = join(dir, 'volume.onnx');
  writeFileSync(model, b.toBytes());
  const r = await cli(['play', model, '--out', dir]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /volume\.onnx: .*volume.*\[1, ?2, ?3, ?4, ?5\]/);
});

test('the WebGPU execution provider runs through SwiftShader and matches the CPU', { skip: !existsSync(SWIFTSHADER_ICD) && 'no SwiftShader Vulkan driver (apt install chromium)' }, async (t) => {
  const dir = tempDir(t);
  const env = { VK_ICD_FILENAMES: SWIFTSHADER_ICD };
  const [gpu, cpu] = await Promise.all([
    cli(['play', fixture('stylegan2-64-tiny.onnx'), '--frames', '1', '--seed', '3', '--ep', 'webgpu', '--out', join(dir, 'gpu')], env),
    cli(['play', fixture('stylegan2-64-tiny.onnx'), '--frames', '1', '--seed', '3', '--ep', 'cpu', '--out', join(dir, 'cpu')]),
  ]);
  assert.equal(gpu.code, 0, gpu.stderr);
  const stats = JSON.parse(readFileSync(join(dir, 'gpu', 'stats.json'), 'utf8'));
  assert.equal(stats.ep, 'webgpu', gpu.stderr);
  assert.equal(cpu.code, 0, cpu.stderr);
  const a = readPng(join(dir, 'gpu', 'frame-00000.png')).data;
  const b = readPng(join(dir, 'cpu', 'frame-00000.png')).data;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst <= 8, `webgpu and cpu frames differ by at most 8 levels (got ${worst})`);
});

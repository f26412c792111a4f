// models/make-stylegan2.ts builds the full-size StyleGAN2 the GPU benches play. Checked here on a
// narrow 32x32 build through the same code: netbend finds its layer tree and its W split the way
// it finds an export's, it plays finite frames that move with z, an ablated layer stays finite
// (its demodulation carries an epsilon), and the full-size configurations have config F's channels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildStyleGan2, configFor, numWs } from '../models/make-stylegan2.ts';
import { decodeModel } from '../app/engine/onnx/model-file.ts';
import { findWSplit } from '../app/engine/latent/w-split.ts';
import { tempDir } from './helpers.ts';

const { Engine } = await import('../app/engine/engine.ts');

test('a narrow StyleGAN2 build: layer tree, W split, finite frames that move, bendable', async (t) => {
  const file = join(tempDir(t), 'sg2-32.onnx');
  const bytes = buildStyleGan2({ ...configFor(32), channelBase: 256, channelMax: 32 });
  writeFileSync(file, bytes);
  const w = findWSplit(decodeModel(bytes));
  assert.ok('split' in w, JSON.stringify(w));
  assert.equal(w.split.numWs, numWs(32));
  assert.equal(w.split.wDim, 512);
  const { engine } = await Engine.open({ model: file, ep: 'cpu', seed: 3 });
  t.after(() => engine.close());
  for (const l of ['b4.conv1', 'b4.torgb', 'b8.conv0', 'b8.conv1', 'b32.torgb', 'mapping.fc7']) assert.ok(engine.tree.resolve(l).path.startsWith('G.'), l);
  const a = await engine.render({ index: 0, time: 0, dt: 0 });
  const b = await engine.render({ index: 30, time: 1, dt: 1 });
  assert.equal(a.width, 32);
  assert.equal(a.stats.nonFinite, 0);
  assert.ok(Buffer.compare(Buffer.from(a.rgba!), Buffer.from(b.rgba!)) !== 0, 'the picture moves with z');
  engine.addEdit('b16.conv1', 'ablate', 0.5);
  await engine.settled();
  const c = await engine.render({ index: 31, time: 1, dt: 0 });
  assert.equal(c.stats.nonFinite, 0);
  assert.ok(Buffer.compare(Buffer.from(b.rgba!), Buffer.from(c.rgba!)) !== 0, 'the ablation shows');
});

test('full-size configurations: config F channels (512 down to 32 at 1024, 64 at 256) and ws counts', () => {
  const ch = (res: number, size: number) => Math.min(Math.floor(configFor(size).channelBase / res), configFor(size).channelMax);
  assert.deepEqual(
    [4, 64, 128, 256, 512, 1024].map((r) => ch(r, 1024)),
    [512, 512, 256, 128, 64, 32],
  );
  assert.deepEqual(
    [4, 32, 64, 128, 256].map((r) => ch(r, 256)),
    [512, 512, 256, 128, 64],
  );
  assert.equal(numWs(1024), 18);
  assert.equal(numWs(256), 14);
  assert.throws(() => buildStyleGan2(configFor(48)), /power of two/);
});

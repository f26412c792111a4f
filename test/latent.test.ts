// Issue 15 items 3-6: W space (truncation, style mixing, principal directions) on real StyleGAN2
// and StyleGAN3 exports, through the engine and the CLI; a graph without the split still plays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, fixture, ROOT, tempDir } from './helpers.ts';
import { Engine } from '../app/engine/engine.ts';
import { readModelFile } from '../app/engine/onnx/model-file.ts';
import { findWSplit } from '../app/engine/latent/w-split.ts';

const SG2 = fixture('stylegan2-64-tiny.onnx');
const SG3 = fixture('stylegan3r-64-tiny.onnx');
const SG3T = fixture('stylegan3t-128-tiny.onnx');
const t0 = { index: 0, time: 0, dt: 0 };
const L = '/netbend/latent';
const SEED = '/netbend/source/z/seed';

function meanAbs(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

test('the split is found from the graph, with and without scope metadata', async () => {
  for (const [name, numWs] of [
    ['stylegan2-64-tiny.onnx', 10],
    ['stylegan2-64-tiny-b.onnx', 10],
    ['stylegan3t-128-tiny-b.onnx', 16],
    ['stylegan3r-64-tiny.onnx', 16],
  ] as const) {
    const w = findWSplit((await readModelFile(fixture(name))).model);
    assert.ok('split' in w, `${name}: ${'note' in w ? w.note : ''}`);
    assert.equal(w.split.numWs, numWs, name);
    assert.equal(w.split.wDim, 512, name);
    assert.deepEqual(w.split.inputs, ['z'], name);
  }
});

for (const [label, model] of [
  ['StyleGAN2', SG2],
  ['StyleGAN3-R', SG3],
  ['StyleGAN3-T', SG3T],
] as const) {
  test(`${label}: truncation, mixing and directions keep their identities and move smoothly`, async () => {
    const { engine } = await Engine.open({ model, ep: 'cpu', seed: 5, latent: { samples: 256 } });
    const frame = async () => (await engine.render(t0)).rgba!.slice();
    const p = engine.params;
    try {
      const numWs = engine.latent.shape!.numWs;
      const base = await frame();
      // A direction over no layers forces the latent graph with a zero offset: the live graph at
      // identity gives the plain frame bit for bit.
      p.set(`${L}/direction/0/from`, 3);
      p.set(`${L}/direction/0/to`, 3);
      p.set(`${L}/direction/0/amount`, 1);
      await engine.settled();
      assert.ok(engine.latent.principal, 'directions estimated');
      assert.deepEqual(await frame(), base, 'latent graph at identity = the model');
      p.set(`${L}/direction/0/amount`, 0);
      p.set(`${L}/direction/0/to`, numWs);
      p.set(`${L}/direction/0/from`, 0);
      p.set(`${L}/truncation`, 1);
      assert.deepEqual(await frame(), base, 'psi = 1: identical');
      p.set(`${L}/truncation`, 0);
      const avg5 = await frame();
      p.set(SEED, 9);
      const avg9 = await frame();
      assert.deepEqual(avg9, avg5, 'psi = 0: the same frame for seeds 5 and 9');
      assert.notDeepEqual(avg5, base, 'psi = 0 changes the frame');
      const own9 = await (async () => {
        p.set(`${L}/truncation`, 1);
        return frame();
      })();
      assert.notDeepEqual(own9, base);
      p.set(SEED, 5);
      p.set(`${L}/mix/seed`, 9);
      p.set(`${L}/mix/from`, numWs);
      assert.deepEqual(await frame(), base, 'mixing from past the last layer = no mixing');
      p.set(`${L}/mix/from`, 0);
      assert.deepEqual(await frame(), own9, "mixing from layer 0 = the mix seed's own frame");
      p.set(`${L}/mix/from`, Math.floor(numWs / 2));
      const half = await frame();
      assert.notDeepEqual(half, base);
      assert.notDeepEqual(half, own9);
      p.set(`${L}/mix/from`, numWs);
      assert.deepEqual(await frame(), base, 'back to no mixing');
      const diffs: number[] = [];
      for (const amount of [0.25, 0.5, 1, 2]) {
        p.set(`${L}/direction/0/amount`, amount);
        diffs.push(meanAbs(await frame(), base));
      }
      for (let i = 1; i < diffs.length; i++) assert.ok(diffs[i]! > diffs[i - 1]!, `frame difference grows with the amount: ${diffs.join(', ')}`);
      assert.ok(diffs[0]! > 0, 'a small step moves the frame');
      p.set(`${L}/direction/0/amount`, 0);
      assert.deepEqual(await frame(), base, 'a direction at 0 is identity');
      console.log(`${label}: direction 0 mean |diff| at 0.25, 0.5, 1, 2 = ${diffs.map((d) => d.toFixed(3)).join(', ')}`);
    } finally {
      await engine.close();
    }
  });
}

test('W space and bends together: a weight edit on top of truncation, one frame for two seeds still', async () => {
  const { engine } = await Engine.open({ model: SG2, ep: 'cpu', seed: 5, latent: { samples: 128 } });
  const frame = async () => (await engine.render(t0)).rgba!.slice();
  try {
    const p = engine.params;
    p.set(`${L}/truncation`, 0);
    await engine.settled();
    const avg = await frame();
    engine.addEdit('b16.conv1', 'scale', 0.3);
    await engine.settled();
    const both5 = await frame();
    p.set(SEED, 9);
    assert.deepEqual(await frame(), both5, 'psi = 0 under an edit: still one frame for two seeds');
    assert.notDeepEqual(both5, avg, 'the edit shows');
    p.set(`${L}/truncation`, 1);
    const edited9 = await frame();
    assert.notDeepEqual(edited9, both5, 'psi back to 1 under the edit: the seed shows again');
  } finally {
    await engine.close();
  }
});

test('principal directions from fewer samples than dimensions (the Gram matrix) are those of the covariance', async () => {
  const { principalDirections } = await import('../app/engine/latent/directions.ts');
  const { gaussianArray } = await import('../app/core/seeded-random.ts');
  const [count, dim] = [40, 96];
  // Anisotropic samples: a clear order of variances along the axes.
  const g = gaussianArray(count * dim, 11);
  const samples = g.map((x, i) => x * (1 + 6 / (1 + (i % dim))));
  const small = principalDirections(samples, count, dim, 5);
  const full = principalDirections(samples, count, dim, count + 1); // k > count: the covariance's own EVD
  for (let c = 0; c < 5; c++) {
    assert.ok(Math.abs(small.sigmas[c]! - full.sigmas[c]!) < 1e-6 * full.sigmas[c]!, `sigma ${c}`);
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += small.vectors[c * dim + j]! * full.vectors[c * dim + j]!;
    assert.ok(dot > 1 - 1e-5, `direction ${c}: cos ${dot}`);
  }
});

test('a graph without a mapping/synthesis split plays, W features off with one note', async () => {
  const { engine, warnings } = await Engine.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu', seed: 5 });
  try {
    const notes = warnings.filter((w) => w.includes('W features off'));
    assert.equal(notes.length, 1, warnings.join('\n'));
    assert.equal(engine.latent.shape, undefined);
    assert.equal(engine.params.has(`${L}/truncation`), false);
    await engine.settled();
    assert.ok((await engine.render(t0)).rgba!.length > 0);
  } finally {
    await engine.close();
  }
});

test('CLI: --truncation 0 gives one frame for two seeds; --mix-from 0 is the mix seed; --direction moves', async (t) => {
  const dir = tempDir(t);
  const play = async (name: string, ...args: string[]) => {
    const out = join(dir, name);
    const r = await cli(['play', SG2, '--frames', '1', '--ep', 'cpu', '--out', out, ...args]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    return PNG.sync.read(readFileSync(join(out, 'frame-00000.png'))).data;
  };
  const a = await play('a', '--seed', '5', '--truncation', '0');
  const b = await play('b', '--seed', '7', '--truncation', '0');
  assert.deepEqual(a, b);
  const own = await play('own', '--seed', '7');
  assert.deepEqual(await play('mix', '--seed', '5', '--mix-seed', '7', '--mix-from', '0'), own);
  const plain = await play('plain', '--seed', '5');
  assert.notDeepEqual(await play('dir', '--seed', '5', '--direction', '0=2'), plain);
  assert.deepEqual(await play('dir0', '--seed', '5', '--direction', '0=0'), plain);
  const clip = join(dir, 'clip');
  const r = await cli(['render', SG2, '--seconds', '0.1', '--fps', '10', '--format', 'png', '--seed', '7', '--truncation', '0', '--ep', 'cpu', '--out', clip]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(PNG.sync.read(readFileSync(join(clip, 'frame-00000.png'))).data, a, 'render --truncation 0: the same w_avg frame');
  const off = await cli(['play', join(ROOT, 'models', 'default.onnx'), '--frames', '1', '--ep', 'cpu', '--truncation', '0.5', '--out', join(dir, 'off')]);
  assert.notEqual(off.code, 0);
  assert.match(off.stderr, /need W space: W features off/);
});

test('direction sets: saved, loaded into an engine that sampled other directions, same frame; bad sets refused', async (t) => {
  const { saveDirectionSet, loadDirectionSet } = await import('../app/control/direction-sets.ts');
  const dir = tempDir(t);
  const file = join(dir, 'dirs.json');
  const move = async (engine: Engine) => {
    engine.params.set(`${L}/direction/1/amount`, 1.5);
    engine.params.set(`${L}/direction/1/from`, 2);
    engine.params.set(`${L}/direction/1/to`, 6);
    await engine.settled();
    return (await engine.render(t0)).rgba!.slice();
  };
  const a = await Engine.open({ model: SG2, ep: 'cpu', seed: 5, latent: { samples: 128 } });
  let moved: Uint8Array;
  try {
    moved = await move(a.engine);
    await saveDirectionSet(a.engine, file);
  } finally {
    await a.engine.close();
  }
  const set = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(set.directions.length, 8);
  assert.deepEqual([set.directions[1].from, set.directions[1].to], [2, 6]);
  const b = await Engine.open({ model: SG2, ep: 'cpu', seed: 5, latent: { samples: 64, seed: 77 } });
  try {
    assert.notDeepEqual(await move(b.engine), moved, 'other samples, other directions');
    b.engine.params.set(`${L}/direction/1/from`, 0);
    await loadDirectionSet(b.engine, file);
    assert.equal(b.engine.params.get(`${L}/direction/1/from`), 2, 'the set brings its layer ranges');
    assert.deepEqual((await b.engine.render(t0)).rgba, moved, 'the loaded set moves w the same way');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...set, wDim: 256 }));
    await assert.rejects(loadDirectionSet(b.engine, join(dir, 'bad.json')), /not a direction set: directions\.0\.vector has 512 values, wDim is 256/);
    // Finite but absurd: a sigma of 1e38 (w would overflow to Inf), a component of 1e30.
    const edited = (k: number, change: (d: { sigma: number; vector: number[] }) => object) => ({
      ...set,
      directions: set.directions.map((d: { sigma: number; vector: number[] }, i: number) => (i === k ? change(d) : d)),
    });
    writeFileSync(join(dir, 'huge.json'), JSON.stringify(edited(1, (d) => ({ ...d, sigma: 1e38 }))));
    await assert.rejects(loadDirectionSet(b.engine, join(dir, 'huge.json')), /huge\.json: not a direction set: directions\.1\.sigma must be a standard deviation of w, from 0 to 10000$/);
    writeFileSync(join(dir, 'far.json'), JSON.stringify(edited(2, (d) => ({ ...d, vector: d.vector.map((x, j) => (j === 3 ? -1e30 : x)) }))));
    await assert.rejects(loadDirectionSet(b.engine, join(dir, 'far.json')), /far\.json: not a direction set: directions\.2\.vector\.3 must be a direction's component, from -100 to 100$/);
    assert.deepEqual((await b.engine.render(t0)).rgba, moved, 'the set playing is kept');
    writeFileSync(join(dir, 'sg3.json'), JSON.stringify({ ...set, numWs: 16, directions: set.directions.map((d: { to: number }) => ({ ...d, to: Math.min(d.to, 16) })) }));
    await assert.rejects(loadDirectionSet(b.engine, join(dir, 'sg3.json')), /w of 16 x 512, this model's is 10 x 512/);
  } finally {
    await b.engine.close();
  }
});

test('one registry, models in turn: "no mixing" and "to the last layer" follow the layer count; no W space, no W parameters', async () => {
  const { ParameterRegistry } = await import('../app/core/registry.ts');
  const registry = new ParameterRegistry();
  const open = async (model: string) => (await Engine.open({ model, ep: 'cpu', registry })).engine;
  const sg2 = await open(SG2);
  registry.set(`${L}/truncation`, 0.7);
  await sg2.close();
  const sg3 = await open(SG3);
  try {
    assert.equal(registry.get(`${L}/mix/from`), 16, 'no mixing on 16 layers either');
    assert.equal(registry.get(`${L}/direction/0/to`), 16);
    assert.equal(registry.get(`${L}/truncation`), 0.7, 'psi carries over');
  } finally {
    await sg3.close();
  }
  const plain = await open(join(ROOT, 'models', 'default.onnx'));
  try {
    assert.equal(registry.list().filter((s) => s.address.startsWith(`${L}/`)).length, 0);
  } finally {
    await plain.close();
  }
});

test('CLI: --save-directions writes the set played, --directions plays it with its layer ranges', async (t) => {
  const dir = tempDir(t);
  const set = join(dir, 'set.json');
  const play = async (name: string, ...args: string[]) => {
    const out = join(dir, name);
    const r = await cli(['play', SG2, '--frames', '1', '--seed', '5', '--ep', 'cpu', '--out', out, ...args]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    return PNG.sync.read(readFileSync(join(out, 'frame-00000.png'))).data;
  };
  const ranged = await play('saved', '--direction', '1=1.5@2-6', '--save-directions', set);
  assert.deepEqual([JSON.parse(readFileSync(set, 'utf8')).directions[1].from, JSON.parse(readFileSync(set, 'utf8')).directions[1].to], [2, 6]);
  assert.deepEqual(await play('loaded', '--directions', set, '--direction', '1=1.5'), ranged, 'the set brings layers 2-6');
  assert.notDeepEqual(await play('all', '--direction', '1=1.5'), ranged, 'without it direction 1 moves every layer');
});

test('direction sets in a show: found, saved and loaded by name over OSC and from the page, in OSCQuery, a load undoable, a bad file refused, a take replaying a load', async (t) => {
  const { LiveSession } = await import('../app/server/live-session.ts');
  const { LoopbackOsc, SteppedClock } = await import('./loopback-ports.ts');
  const { sendOsc, takeSaved } = await import('./show-steps.ts');
  const { ffmpegTakes } = await import('../app/record/take-recorder.ts');
  const { PresetFolder } = await import('../app/control/preset-store.ts');
  const { namespace } = await import('../app/io/oscquery.ts');
  const { signature } = await import('../app/scene/actions.ts');
  const { parseIncoming } = await import('../app/server/commands.ts');
  const dir = tempDir(t);
  const osc = new LoopbackOsc();
  const clock = new SteppedClock(10);
  const { session } = await LiveSession.open(
    // Fewer sampled z than a show's 512 (the test's time is in the sampling); the re-render samples as many.
    { model: SG2, ep: 'cpu', seed: 5, latent: { samples: 64 } },
    { clock, osc, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(`${n.level}: ${n.text}`));
  const send = (address: string, types: string, args: string[]) => sendOsc(session, osc, address, types, args);
  const D = '/netbend/latent/directions';
  const moves = session.scene.actions.list().map((a) => ({ address: a.address, types: signature(a.args), description: a.description }));
  const tree = namespace(session.params, D, moves) as { CONTENTS: Record<string, { TYPE: string }> };
  assert.deepEqual(Object.fromEntries(Object.entries(tree.CONTENTS).map(([k, v]) => [k, v.TYPE])), { compute: 'I', save: 's', load: 's', list: 'I' });

  const frame = async () => {
    await session.engine.settled();
    return (await session.engine.render(t0)).rgba!.slice();
  };
  const current = () => session.engine.latent.loadedSet?.name ?? null;
  session.params.set(`${L}/direction/0/amount`, 2, 'ui');
  await send(`${D}/compute`, '', []);
  assert.ok(session.engine.latent.principal, 'directions found');
  const computed = await frame();
  await send(`${D}/save`, 's', ['a']);
  const saved = join(dir, 'presets', 'directions', 'a.json');
  const set = JSON.parse(readFileSync(saved, 'utf8'));
  assert.equal(set.directions.length, 8);
  // Another set: direction 0 the other way round.
  writeFileSync(
    join(dir, 'presets', 'directions', 'b.json'),
    JSON.stringify({ ...set, directions: set.directions.map((d: { vector: number[] }, k: number) => (k ? d : { ...d, vector: d.vector.map((x) => -x) })) }),
  );
  await send(`${D}/load`, 's', ['b']);
  assert.equal(current(), 'b');
  assert.equal((session.state() as { directionSet?: unknown }).directionSet, 'b', 'pages are told the set played');
  const flipped = await frame();
  assert.notDeepEqual(flipped, computed, 'direction 0 reversed moves w the other way');
  await session.command({ cmd: 'undo' });
  assert.equal(current(), null, 'undo: the directions found from sampled z again');
  assert.deepEqual(await frame(), computed);
  await session.command({ cmd: 'redo' });
  assert.equal(current(), 'b');
  assert.deepEqual(await frame(), flipped);
  assert.deepEqual(await session.command({ cmd: 'directions', action: 'load', name: 'a' }), { sets: ['a', 'b'], current: 'a' });
  assert.deepEqual(await frame(), computed, 'the saved set moves w as the found one did');

  // Refusals: a set of another shape, a name that climbs out of the folder; the set playing stays.
  writeFileSync(join(dir, 'presets', 'directions', 'bad.json'), JSON.stringify({ ...set, wDim: 256 }));
  await send(`${D}/load`, 's', ['bad']);
  assert.match(notices.at(-1)!, /^error: osc \/netbend\/latent\/directions\/load: .*bad\.json: not a direction set: directions\.0\.vector has 512 values/);
  await send(`${D}/load`, 's', ['../a']);
  assert.match(notices.at(-1)!, /"\.\.\/a" is not a direction set name/);
  assert.equal(parseIncoming(JSON.stringify({ id: 1, cmd: 'directions', action: 'load', name: '../a' })).kind, 'bad-command');
  await assert.rejects(session.command({ cmd: 'directions', action: 'load', name: 'nope' }), /nope\.json: no such direction set/);
  assert.equal(current(), 'a', 'the set playing is kept');
  await send(`${D}/list`, '', []);
  assert.match(notices.at(-1)!, /direction sets: a, b, bad \(playing a\)/);

  // A preset holds the set played.
  await session.command({ cmd: 'savePreset', name: 'with-a' });
  const preset = JSON.parse(readFileSync(join(dir, 'presets', 'with-a.json'), 'utf8'));
  assert.equal(preset.directions.name, 'a');
  await session.command({ cmd: 'directions', action: 'compute' });
  assert.equal(current(), null);
  await session.command({ cmd: 'loadPreset', name: 'with-a' });
  assert.equal(current(), 'a', 'the preset brings its set back');

  // A take logs a set loaded mid-take, and its re-render plays it again frame for frame.
  const { RECORD } = await import('../app/server/live-session.ts');
  const { loadTake } = await import('../app/scene/take.ts');
  const { renderTake } = await import('../app/scene/take-render.ts');
  const { readdirSync } = await import('node:fs');
  session.params.set('/netbend/source/z/speed', 2, 'ui');
  session.params.set(RECORD, true, 'ui');
  while (session.stats().recording === null) await clock.step();
  for (let i = 0; i < 3; i++) await clock.step();
  await send(`${D}/load`, 's', ['b']);
  for (let i = 0; i < 3; i++) await clock.step();
  session.params.set(RECORD, false, 'ui');
  const takeFile = await takeSaved(notices);
  const take = await loadTake(takeFile);
  assert.equal(take.start.scene.directions?.name, 'a', 'the take starts on set a');
  assert.ok(
    take.log.some((e) => e[1] === 'd' && e[2]?.name === 'b'),
    'the load is logged at its frame',
  );
  const again = join(dir, 'again');
  await renderTake(take, { out: again, format: 'png', ep: 'cpu', latent: { samples: 64 } });
  const frames = readdirSync(take.video!).filter((f) => f.endsWith('.png'));
  assert.ok(frames.length >= 6, `${frames.length} frames`);
  const pixels = (file: string) => PNG.sync.read(readFileSync(file)).data;
  for (const f of frames) assert.ok(pixels(join(take.video!, f)).equals(pixels(join(again, f))), `${f}: the re-rendered frame equals the live one`);
  assert.ok(!pixels(join(again, frames[0]!)).equals(pixels(join(again, frames.at(-1)!))), 'set b moved the picture mid-take');
});

// Presets: every shipped preset plays; bad ones are refused naming the field; saves are atomic;
// old versions migrate; a saved scene loads back to the same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, tempDir } from './helpers.ts';
import { loadPreset, savePreset, listPresets, sweepOrphanTemps, MAX_PRESET_BYTES } from '../app/control/preset-store.ts';
import { parsePreset } from '../app/control/preset.ts';
import { captureScene, applyScene } from '../app/control/scene.ts';
import { Engine } from '../app/engine/engine.ts';

const PRESETS = join(ROOT, 'presets');
const shipped = readdirSync(PRESETS).filter((f) => f.endsWith('.json'));

test('at least two example presets ship, and each plays with netbend play', async (t) => {
  assert.ok(shipped.length >= 2);
  const dir = tempDir(t);
  for (const f of shipped) {
    const r = await cli(['play', join(PRESETS, f), '--frames', '2', '--fps', '2', '--ep', 'cpu', '--out', join(dir, f)]);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    assert.ok(readdirSync(join(dir, f)).includes('frame-00001.png'));
  }
});

test('a preset with a wrong field is refused naming the field, no stack trace', async (t) => {
  const dir = tempDir(t);
  const good = JSON.parse(readFileSync(join(PRESETS, 'bent.json'), 'utf8'));
  good.model.path = join(ROOT, 'models', 'default.onnx');
  const cases: Array<[(p: any) => void, RegExp]> = [
    [(p) => (p.edits[0].op = 'melt'), /edits\[0\]\.op/],
    [(p) => (p.version = 99), /version 99 is newer/],
    [(p) => (p.params['/netbend/source/z/speed'] = 'fast'), /\/netbend\/source\/z\/speed: expected a finite number/],
    [(p) => delete p.model, /model/],
    [(p) => (p.modulators[0].target = 'speed'), /modulators\[0\]\.target/],
  ];
  const notJson = join(dir, 'broken.json');
  writeFileSync(notJson, '{ "netbend": "preset", ');
  // Independent runs, side by side.
  const [broken, ...results] = await Promise.all([
    cli(['play', notJson, '--out', dir]),
    ...cases.map(([mutate], i) => {
      const p = structuredClone(good);
      mutate(p);
      const file = join(dir, `bad-${i}.json`);
      writeFileSync(file, JSON.stringify(p));
      return cli(['play', file, '--frames', '1', '--ep', 'cpu', '--out', join(dir, `out-${i}`)]);
    }),
  ]);
  for (const [i, [, pattern]] of cases.entries()) {
    const r = results[i]!;
    assert.notEqual(r.code, 0, `case ${i} is refused`);
    assert.match(r.stderr, new RegExp(`bad-${i}\\.json`));
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /broken\.json: not valid JSON/);
});

test('version 1 presets get named edits, and every eN address in them follows its edit', () => {
  const p = parsePreset(
    {
      netbend: 'preset',
      version: 1,
      name: 'v1',
      model: { path: 'm.onnx' },
      params: { '/netbend/edit/e2/amount': 0.5, '/netbend/source/z/seed': 1 },
      edits: [
        { target: 'b16', op: 'scale', amount: 1 },
        { target: 'G.synthesis.b32.conv0.weight', op: 'noise', amount: 0.2 },
        { target: 'b16', op: 'scale', amount: 2 },
      ],
      modulators: [{ id: 'm', target: '/netbend/edit/e3/amount', kind: 'lfo', source: 'sine' }],
      mappings: { midi: [{ kind: 'cc', number: 1, param: '/netbend/edit/e1/amount' }], osc: [] },
    },
    'v1.json',
  );
  assert.equal(p.version, 2);
  assert.deepEqual(
    p.edits.map((e) => e.name),
    ['b16-scale', 'b32.conv0-noise', 'b16-scale-2'],
  );
  assert.deepEqual(Object.keys(p.params), ['/netbend/edit/b32.conv0-noise/amount', '/netbend/source/z/seed']);
  assert.equal(p.modulators[0]!.target, '/netbend/edit/b16-scale-2/amount');
  assert.equal(p.mappings.midi[0]!.param, '/netbend/edit/b16-scale/amount');
  assert.throws(
    () => parsePreset({ netbend: 'preset', version: 2, name: 'x', model: { path: 'm' }, edits: [{ name: 'a/b', target: 'b16', op: 'scale', amount: 1 }] }, 'bad.json'),
    /edits\[0\]\.name: one address segment/,
  );
});

test('version 0 presets migrate; unknown future versions are refused', () => {
  const p = parsePreset({ version: 0, name: 'old', model: 'm.onnx', latent: { seed: 4, speed: 0.2 } }, 'old.json');
  assert.equal(p.version, 2);
  assert.deepEqual(p.model, { path: 'm.onnx' });
  assert.deepEqual(p.params, { '/netbend/source/z/seed': 4, '/netbend/source/z/speed': 0.2 });
  assert.throws(() => parsePreset({ netbend: 'preset', version: 3, name: 'x', model: { path: 'm' } }, 'new.json'), /new\.json: preset version 3 is newer/);
});

test('save is atomic: an invalid preset or a failed write leaves the old file intact', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'scene.json');
  const p = await loadPreset(join(PRESETS, 'bent.json'));
  await savePreset(file, p);
  const before = readFileSync(file, 'utf8');
  await assert.rejects(savePreset(file, { ...p, edits: [{ ...p.edits[0]!, op: 'melt' }] } as never), /edits\[0\]\.op/);
  assert.equal(readFileSync(file, 'utf8'), before);
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    await assert.rejects(savePreset(file, { ...p, name: 'other' }));
    chmodSync(dir, 0o700);
    assert.equal(readFileSync(file, 'utf8'), before);
  }
  assert.deepEqual(readdirSync(dir), ['scene.json'], 'no temp files left behind');
  // Paths are written relative to the preset and resolve back to the same model.
  assert.match(before, /"path": "[^/"][^"]*default\.onnx"/);
  assert.equal((await loadPreset(file)).model.path, p.model.path);
  assert.deepEqual(
    (await listPresets(dir)).map((e) => e.name),
    ['bent'],
  );
});

test('a scene saved from a bent engine loads back to the same values and pixels', async () => {
  const file = join(ROOT, 'models', 'default.onnx');
  const a = await Engine.open({ model: file, ep: 'cpu', seed: 2 });
  const b = await Engine.open({ model: file, ep: 'cpu', seed: 9 });
  try {
    a.engine.addEdit('L2_128_16', 'scale', 0.4);
    a.engine.params.set('/netbend/source/z/speed', 1.7);
    await a.engine.settled();
    const scene = captureScene(a.engine, 'round trip');
    const roundTripped = parsePreset(JSON.parse(JSON.stringify(scene)), 'scene.json');
    await applyScene(b.engine, roundTripped);
    await b.engine.settled();
    assert.equal(b.engine.params.get('/netbend/source/z/speed'), 1.7);
    assert.equal(b.engine.params.get('/netbend/source/z/seed'), 2);
    assert.deepEqual(
      b.engine.bend.listEdits().map((e) => [e.target, e.op, e.amount]),
      [['L2_128_16', 'scale', 0.4]],
    );
    const t = { index: 3, time: 0.1, dt: 0.1 };
    assert.deepEqual((await b.engine.render(t)).rgba, (await a.engine.render(t)).rgba);
  } finally {
    await a.engine.close();
    await b.engine.close();
  }
});

test('temp files left by a killed save are swept: old ones and those of dead processes, not live fresh ones', async (t) => {
  const dir = tempDir(t);
  const now = Date.now();
  const dead = 2 ** 22 + 12345; // above any pid_max default: no such process
  const names = {
    old: `.a.json.${process.pid}.${now - 120_000}.tmp`,
    deadPid: `.b.json.${dead}.${now}.tmp`,
    fresh: `.c.json.${process.pid}.${now}.tmp`,
    notOurs: '.hidden.json',
    preset: 'keep.json',
  };
  for (const f of Object.values(names)) writeFileSync(join(dir, f), '{}');
  const swept = await sweepOrphanTemps(dir, now);
  assert.deepEqual(swept.sort(), [names.deadPid, names.old].sort());
  assert.deepEqual(readdirSync(dir).sort(), [names.fresh, names.notOurs, names.preset].sort());
});

test('serve sweeps orphan temp files from its presets folder when it opens it', async (t) => {
  const { startServe, fixture } = await import('./helpers.ts');
  const dir = tempDir(t);
  const orphan = `.scene.json.${2 ** 22 + 54321}.${Date.now()}.tmp`;
  writeFileSync(join(dir, orphan), '{"half": ');
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--presets', dir]);
  try {
    assert.ok(!readdirSync(dir).includes(orphan), 'the orphan is gone once serving');
  } finally {
    await s.stop();
  }
});

test('listing skips a file over the size bound (said once) and rereads only files that changed', async (t) => {
  const dir = tempDir(t);
  const preset = (name: string) => JSON.stringify({ netbend: 'preset', version: 1, name, model: { path: 'm.onnx' } });
  writeFileSync(join(dir, 'a.json'), preset('first'));
  writeFileSync(join(dir, 'b.json'), preset('second'));
  // 50 MB, sparse: a preset-looking head, then zeros. Parsing it would fail anyway; reading it
  // would stall the show.
  const huge = join(dir, 'huge.json');
  writeFileSync(huge, preset('huge'));
  truncateSync(huge, 50 * 1024 * 1024);
  assert.ok(50 * 1024 * 1024 > MAX_PRESET_BYTES);
  const said: string[] = [];
  const onSkip = (m: string) => said.push(m);
  assert.deepEqual(
    (await listPresets(dir, { onSkip })).map((e) => e.name),
    ['first', 'second'],
  );
  assert.equal(said.length, 1);
  assert.match(said[0]!, /huge\.json.*too big/);
  assert.deepEqual(
    (await listPresets(dir, { onSkip })).map((e) => e.name),
    ['first', 'second'],
  );
  assert.equal(said.length, 1, 'said once');

  // The cache answers while (mtime, size) stay: an unreadable file with its old stamp still lists.
  if (process.getuid?.() !== 0) {
    chmodSync(join(dir, 'a.json'), 0o000);
    assert.deepEqual(
      (await listPresets(dir)).map((e) => e.name),
      ['first', 'second'],
      'not reread',
    );
    chmodSync(join(dir, 'a.json'), 0o600);
  }
  // Same size, same mtime, other content: still the cached entry (nothing was read).
  const stamp = new Date(Date.now() - 10_000);
  writeFileSync(join(dir, 'b.json'), preset('SECOND'));
  utimesSync(join(dir, 'b.json'), stamp, stamp);
  assert.deepEqual(
    (await listPresets(dir)).map((e) => e.name),
    ['first', 'SECOND'],
    'a new mtime is read',
  );
  writeFileSync(join(dir, 'b.json'), preset('secnd2'));
  utimesSync(join(dir, 'b.json'), stamp, stamp);
  assert.deepEqual(
    (await listPresets(dir)).map((e) => e.name),
    ['first', 'SECOND'],
    'same (mtime, size): the cached entry, nothing read',
  );
  writeFileSync(join(dir, 'b.json'), preset('changed again'));
  assert.deepEqual(
    (await listPresets(dir)).map((e) => e.name),
    ['first', 'changed again'],
    'a change shows',
  );
});

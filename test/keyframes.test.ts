// Keyframe loops: seamless (the loop's end frame is its start frame, exactly), legs in seconds and
// in beats, pulses at each keyframe and at the loop's end, and the same frames on every replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';
import { LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { takeSaved } from './show-steps.ts';
import { LiveSession, BPM } from '../app/server/live-session.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { decodeOsc, type OscPacket } from '../app/io/osc-server.ts';
import { Engine } from '../app/engine/engine.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { KeyframeLoop } from '../app/engine/sources/keyframe-loop.ts';
import { GaussianWalk } from '../app/engine/sources/gaussian-walk.ts';
import { chooseSource } from '../app/engine/sources/bind.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const frameAt = (time: number, index = 0) => ({ index, time, dt: 1 / 30 });

test('a keyframe loop is seamless in the source: at the loop end, at a keyframe and between', () => {
  const loop = new KeyframeLoop([1, 512], { keyframes: [{ seed: 3 }, { seed: 8, leg: 2 }, { seed: 11 }], leg: 1.5 });
  assert.equal(loop.total(), 5);
  const at = (time: number) => {
    const out = new Float32Array(512);
    loop.fill(out, { time, frame: 0 });
    return out;
  };
  assert.deepEqual(at(5), at(0));
  assert.deepEqual(at(10), at(0));
  assert.deepEqual(at(2.7), at(7.7 - 5 + 5));
  // Each keyframe is its seed's vector, the one the walk plays for that seed.
  const walk = new GaussianWalk([1, 512], { seeds: [8] });
  assert.deepEqual(at(1.5), walk.seedVector(0));
  // Between keyframes: neither end.
  assert.notDeepEqual(at(0.75), at(0));
  assert.notDeepEqual(at(0.75), at(1.5));
  // In beats: 3 legs of 2 beats at 90 bpm = 6 beats = 4 s.
  loop.params.beats = true;
  loop.params.bpm = 90;
  loop.params.keyframes = [{ seed: 3 }, { seed: 8 }, { seed: 11 }];
  loop.params.leg = 2;
  assert.equal(loop.seconds(), 4);
  assert.deepEqual(at(4), at(0));
  assert.deepEqual(at(4 / 3), walk.seedVector(0));
  assert.equal(chooseSource('z', [1, 512], 'float32', 'keyframes').kind, 'keyframes');
});

test('through the engine: the loop-end frame equals the start frame, legs in seconds and beats, pulses on keyframes', async () => {
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', registry: params, sources: { z: 'keyframes' } });
  try {
    const source = engine.side().inputs.find((i) => i.input === 'z')!.source as unknown as KeyframeLoop;
    source.params.keyframes = [{ seed: 1 }, { seed: 2 }, { seed: 5, pulse: false }, { seed: 9 }];
    params.set('/netbend/source/z/leg', 0.5, 'api');
    const png = async (time: number, index = 0) => Buffer.from((await engine.render(frameAt(time, index))).rgba!);
    const start = await png(0);
    assert.ok(start.equals(await png(2)), 'seconds: the frame at the loop end (2 s) is the start frame');
    assert.ok(start.equals(await png(4)), 'and a loop later');
    assert.ok(!start.equals(await png(0.25)), 'between keyframes the picture moves');
    // Beats: 4 legs of 1 beat at 150 bpm = 1.6 s.
    params.set('/netbend/source/z/beats', true, 'api');
    params.set('/netbend/source/z/bpm', 150, 'api');
    params.set('/netbend/source/z/leg', 1, 'api');
    assert.ok(start.equals(await png(1.6)), 'beats: the frame at the loop end (4 beats) is the start frame');
    assert.ok(!start.equals(await png(0.2)));
    // Deterministic: an offline replay of a time gives the same frame.
    const mid = await png(0.9);
    assert.ok(mid.equals(await png(0.9)));

    // Pulses: on while asked, one per keyframe reached (keyframe 2 opts out), loopEnd on the way round.
    params.set('/netbend/source/z/pulses', true, 'api');
    const events: string[] = [];
    params.on('change', (c) => {
      if (c.address === '/netbend/source/z/pulse') events.push(`pulse${params.get('/netbend/source/z/keyframe')}`);
      if (c.address === '/netbend/source/z/loopEnd') events.push('end');
    });
    // 30 fps over two loops of 1.6 s (legs of 0.4 s).
    for (let i = 0; i <= 96; i++) await engine.render(frameAt(i / 30 + 0.01, i));
    assert.deepEqual(events, ['pulse1', 'pulse3', 'pulse0', 'end', 'pulse1', 'pulse3', 'pulse0', 'end']);
    params.set('/netbend/source/z/pulses', false, 'api');
    events.length = 0;
    for (let i = 0; i <= 48; i++) await engine.render(frameAt(i / 30 + 0.01, i));
    assert.deepEqual(events, []);
  } finally {
    await engine.close();
  }
});

test('with no keyframes the loop holds a seed, and glides to a new one', async () => {
  const loop = new KeyframeLoop([512], { seed: 4, glide: 1 });
  const out = new Float32Array(512);
  loop.fill(out, { time: 0, frame: 0 });
  const walk = new GaussianWalk([512], { seeds: [4, 7] });
  assert.deepEqual(out, walk.seedVector(0));
  loop.params.seed = 7;
  loop.fill(out, { time: 10, frame: 1 });
  assert.deepEqual(out, walk.seedVector(0), 'a glide starts where the picture was');
  loop.fill(out, { time: 10.5, frame: 2 });
  assert.notDeepEqual(out, walk.seedVector(0));
  assert.notDeepEqual(out, walk.seedVector(1));
  loop.fill(out, { time: 11, frame: 3 });
  assert.deepEqual(out, walk.seedVector(1));
  loop.params.glide = 0;
  loop.params.seed = 4;
  loop.fill(out, { time: 11.1, frame: 4 });
  assert.deepEqual(out, walk.seedVector(0), 'without a glide: a jump');
});

test("in a show: a loop in beats follows the show's tempo, and its pulses go out over OSC while asked", async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const osc = new LoopbackOsc();
  const target = { host: '127.0.0.1', port: 57131 };
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', sources: { z: 'keyframes' }, oscTargets: [target] },
    { clock, osc, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const p = session.params;
  assert.equal(p.get('/netbend/source/z/bpm'), 120, 'the show tempo from the start');
  p.set(BPM, 150, 'ui');
  assert.equal(p.get('/netbend/source/z/bpm'), 150);
  const loop = session.engine.side().inputs[0]!.source as unknown as KeyframeLoop;
  loop.params.keyframes = [{ seed: 1 }, { seed: 2 }];
  // Legs of 1 beat at 150 bpm: 0.4 s, 4 frames at 10 fps; a loop of 8 frames.
  p.set('/netbend/source/z/beats', true, 'ui');
  p.set('/netbend/source/z/leg', 1, 'ui');
  p.set('/netbend/source/z/pulses', true, 'ui');
  const sent = () => {
    const out: string[] = [];
    const walk = (m: OscPacket): void => void ('elements' in m ? m.elements.forEach(walk) : out.push(m.address));
    for (const s of osc.sent) if (s.port === target.port) walk(decodeOsc(s.datagram)!);
    return out;
  };
  for (let i = 0; i < 17; i++) await clock.step();
  const got = sent();
  assert.equal(got.filter((a) => a === '/netbend/source/z/pulse').length, 4, 'frames 4, 8, 12, 16: a keyframe each');
  assert.equal(got.filter((a) => a === '/netbend/source/z/loopEnd').length, 2, 'frames 8 and 16: round to the first');
});

test('keyframes in a show: each kept cell one undo step; presets hold the list (a morph lands it first) and the latent jumped to; a model switch keeps the loop; a take re-renders it all exactly', async (t) => {
  const { RECORD } = await import('../app/server/live-session.ts');
  const { loadTake } = await import('../app/scene/take.ts');
  const { renderTake } = await import('../app/scene/take-render.ts');
  const { readdirSync, readFileSync, copyFileSync } = await import('node:fs');
  const dir = tempDir(t);
  // Another model with the same z [1, 512]: a copy of the default one.
  const OTHER = join(dir, 'other.onnx');
  copyFileSync(MODEL, OTHER);
  const clock = new SteppedClock(10);
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', sources: { z: 'keyframes' }, modelDirs: [dir] },
    { clock, osc: undefined, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));
  const keys = () => session.engine.keyframes().z!.map((k) => k.seed ?? `latent of ${k.latent!.length}`);
  await session.command({ cmd: 'seedGrid', n: 2, mode: 'seeds', seed: 30 });
  await session.command({ cmd: 'seedPick', index: 0, action: 'keep' });
  await session.command({ cmd: 'seedPick', index: 2, action: 'keep' });
  assert.deepEqual(keys(), [30, 32]);
  await session.command({ cmd: 'undo' });
  assert.deepEqual(keys(), [30], 'one undo takes back one kept cell');
  await session.command({ cmd: 'redo' });
  assert.deepEqual(keys(), [30, 32]);
  await session.command({ cmd: 'seedGrid', n: 1, mode: 'around', seed: 7, spread: 0.3 });
  await session.command({ cmd: 'seedPick', index: 0, action: 'keep' });
  assert.deepEqual(keys(), [30, 32, 'latent of 512']);

  session.params.set('/netbend/source/z/leg', 0.4, 'ui');
  await session.command({ cmd: 'savePreset', name: 'loop' });
  assert.equal(JSON.parse(readFileSync(join(dir, 'presets', 'loop.json'), 'utf8')).keyframes.z.length, 3);
  const frame = async () => {
    await session.engine.settled();
    return (await session.engine.render(frameAt(0))).rgba!.slice();
  };
  await session.command({ cmd: 'seedPick', index: 0, action: 'jump' });
  assert.deepEqual(keys(), [], 'a jump holds the cell: no keyframes');
  const around = await frame();
  // A preset holds the latent jumped to (a cell around the current one has no seed).
  await session.command({ cmd: 'savePreset', name: 'held' });
  assert.equal(JSON.parse(readFileSync(join(dir, 'presets', 'held.json'), 'utf8')).held.z.length, 512);
  await session.command({ cmd: 'loadPreset', name: 'loop', morphSeconds: 5, at: 'start' });
  assert.deepEqual(keys(), [30, 32, 'latent of 512'], 'a morph lands the list at its start');
  await session.command({ cmd: 'undo' });
  assert.deepEqual(keys(), [], 'and the load is undone whole');
  assert.deepEqual(await frame(), around, 'the held latent with it');
  await session.command({ cmd: 'loadPreset', name: 'loop' });
  assert.deepEqual(keys(), [30, 32, 'latent of 512']);
  assert.deepEqual(session.engine.held(), {}, "the loop preset's loop holds its seed");
  await session.command({ cmd: 'loadPreset', name: 'held' });
  assert.deepEqual(await frame(), around, 'the preset comes back to the very picture');

  await session.command({ cmd: 'loadPreset', name: 'loop' });
  await session.command({ cmd: 'seedGrid', n: 1, mode: 'seeds', seed: 50 });

  // A take: the loop plays, a cell is kept mid-take; the re-render gives every frame again.
  session.params.set(RECORD, true, 'ui');
  while (session.stats().recording === null) await clock.step();
  for (let i = 0; i < 6; i++) await clock.step();
  await session.command({ cmd: 'seedPick', index: 0, action: 'keep' });
  for (let i = 0; i < 4; i++) await clock.step();
  // A model switch mid-take keeps the show's source choice: the other model's z is a keyframe
  // loop too, playing on with the same keyframes. Then a jump around: the re-render follows both.
  await session.command({ cmd: 'loadModel', file: OTHER });
  assert.deepEqual(session.engine.keyframeInputs(), ['z'], 'the new engine feeds z from a keyframe loop');
  assert.deepEqual(keys(), [30, 32, 'latent of 512', 50], 'its keyframes carried over');
  for (let i = 0; i < 3; i++) await clock.step();
  await session.command({ cmd: 'seedGrid', n: 1, mode: 'around', seed: 7, spread: 0.3 });
  await session.command({ cmd: 'seedPick', index: 0, action: 'jump' });
  for (let i = 0; i < 3; i++) await clock.step();
  session.params.set(RECORD, false, 'ui');
  const saved = await takeSaved(notices);
  const take = await loadTake(saved);
  assert.equal(take.start.scene.keyframes.z!.length, 3);
  assert.ok(
    take.log.some((e) => e[1] === 'k' && e[2].z!.length === 4),
    'the kept cell is logged at its frame',
  );
  assert.deepEqual(take.start.sources, { z: 'keyframes' }, "the take keeps the show's source choices");
  assert.ok(
    take.log.some((e) => e[1] === 'h' && e[2].z?.length === 512),
    'the jump around is logged with its latent',
  );
  // A take file whose held latent is not finite is refused, naming the entry.
  const { writeFileSync } = await import('node:fs');
  const hostile = join(dir, 'hostile.take.json');
  writeFileSync(hostile, readFileSync(saved, 'utf8').replace(/"h",\{"z":\[[^,\]]+/, '"h",{"z":[1e999'));
  await assert.rejects(loadTake(hostile), /hostile\.take\.json: log\.\d+/);
  const again = join(dir, 'again');
  await renderTake(take, { out: again, format: 'png', ep: 'cpu' });
  const live = take.video!;
  const frames = readdirSync(live).filter((f) => f.endsWith('.png'));
  assert.ok(frames.length >= 10, `${frames.length} frames`);
  const { PNG } = await import('pngjs');
  const pixels = (file: string) => PNG.sync.read(readFileSync(file)).data;
  const distinct = new Set<string>();
  for (const f of frames) {
    const a = pixels(join(live, f));
    assert.ok(a.equals(pixels(join(again, f))), `${f}: the re-rendered frame equals the live one`);
    distinct.add(a.toString('base64'));
  }
  assert.ok(distinct.size > frames.length / 2, `the loop moved: ${distinct.size} of ${frames.length}`);
  await session.command({ cmd: 'undo' });
  assert.deepEqual(keys(), [30, 32, 'latent of 512', 50], 'undo the jump: the loop again');
  await session.command({ cmd: 'undo' });
  assert.equal(session.engine.file, MODEL);
  assert.deepEqual(keys(), [30, 32, 'latent of 512', 50], 'undo the switch: the first model, its loop as it was');
});

test('a preset with bad keyframes is refused whole, naming the field; the loop keeps its own', async () => {
  const { parsePreset } = await import('../app/control/preset.ts');
  const { applyScene, captureScene } = await import('../app/control/scene.ts');
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', sources: { z: 'keyframes' } });
  try {
    engine.setKeyframes('z', [{ seed: 3 }, { seed: 4, leg: 2 }]);
    const p = captureScene(engine, 'good');
    assert.deepEqual(p.keyframes, { z: [{ seed: 3 }, { seed: 4, leg: 2 }] });
    const bad = (keyframes: unknown) => () => parsePreset({ ...JSON.parse(JSON.stringify(p)), keyframes }, 'bad.json');
    assert.throws(bad({ z: [{ seed: 1.5 }] }), /bad\.json: keyframes\.z\[0\]\.seed: .*int/i);
    assert.throws(bad({ z: [{ leg: -1 }] }), /keyframes\.z\[0\]\.leg/);
    assert.throws(bad({ z: [{ seed: 1, latent: [0, Number.POSITIVE_INFINITY] }] }), /keyframes\.z\[0\]\.latent\[1\]/);
    assert.throws(bad({ z: Array.from({ length: 65 }, () => ({ seed: 1 })) }), /keyframes\.z: .*64/);
    await assert.rejects(applyScene(engine, { ...p, keyframes: { z: [{ latent: [1, 2, 3] }] } }), /preset "good": keyframes of z: keyframe 0 has a latent of 3 values, the input takes 512/);
    assert.deepEqual(engine.keyframes().z, [{ seed: 3 }, { seed: 4, leg: 2 }], 'the loop keeps its keyframes');
    // A held latent: finite, of the input's size.
    assert.throws(() => parsePreset({ ...JSON.parse(JSON.stringify(p)), held: { z: [0, Number.POSITIVE_INFINITY] } }, 'bad.json'), /bad\.json: held\.z\[1\]/);
    await assert.rejects(applyScene(engine, { ...p, held: { z: [1, 2, 3] } }), /preset "good": held latent of z: 3 values, the input takes 512/);
    assert.deepEqual(engine.held(), {}, 'the loop still holds its seed');
    assert.throws(() => engine.setKeyframes('nope', []), /no keyframe loop on input "nope" \(inputs fed by one: z\)/);
  } finally {
    await engine.close();
  }
});

test("a show's source choice carried to a model whose input cannot take it: one warning, the input plays what its shape picks", async () => {
  const { openNextModel } = await import('../app/scene/switch-model.ts');
  const params = new ParameterRegistry();
  const { engine, warnings } = await openNextModel(params, MODEL, 'cpu', { sources: { z: 'noise', absent: 'walk' } });
  try {
    assert.deepEqual(
      warnings.filter((w) => /does not fit/.test(w)).map((w) => w.replace(/^.*?: the source/, 'the source')),
      ['the source z=noise does not fit here (input "z" [1, 512] cannot take a "noise" source: it needs an image [1,C,H,W] or [1,H,W,C] with C = 1, 3 or 4); z plays the source its shape picks'],
    );
    assert.equal(engine.side().inputs.find((i) => i.input === 'z')!.source.kind, 'strip');
  } finally {
    await engine.close();
  }
  await assert.rejects(Engine.open({ model: MODEL, ep: 'cpu', sources: { z: 'noise' } }), /cannot take a "noise" source/, 'at the start of a show a misfit is an error');
});

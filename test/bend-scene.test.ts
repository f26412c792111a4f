// Issue 12: feature-map ops are part of the one scene: added, moved and removed over OSC, driven by
// MIDI bytes, undone, saved in presets that load and morph, and logged in takes that re-render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, ROOT, tempDir, until } from './helpers.ts';
import { LoopbackMidi, LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { LiveSession, RECORD } from '../app/server/live-session.ts';
import { PLAY } from '../app/engine/frame-loop.ts';
import type { Frame } from '../app/engine/frame.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { OSC } from '../app/io/osc-server.ts';
import { loadTake } from '../app/scene/take.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');

test('bends are scene moves: OSC, MIDI, order, undo, presets, morphs and takes', async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const osc = new LoopbackOsc();
  const midi = new LoopbackMidi();
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu' },
    { clock, osc, midi: midi.open, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  let last: Frame | undefined;
  session.on('frame', (f) => (last = f));
  const engine = () => session.engine;
  const send = async (address: string, types: string, args: Array<number | string>) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [types, args];
    osc.deliver(m.pack());
    await session.scene.actions.queue.idle();
  };
  const settle = async () => {
    await engine().settled();
    await clock.step();
    return Buffer.from(last!.rgba!);
  };
  // Paused, every change renders the same held moment: frames compare across changes.
  await clock.step();
  session.params.set(PLAY, false, 'ui');
  const plain = await settle();

  await send('/netbend/bend/add', 'sssfs', ['spin', 'L1', 'rotate', 90, 'share:0.5']);
  assert.deepEqual(
    engine()
      .bend.features.list()
      .map((b) => [b.name, b.layer, b.op]),
    [['spin', 'G.synthesis.L1_64_32', 'rotate']],
  );
  assert.equal(session.params.target('/netbend/bend/spin/channels'), 'share:0.5');
  const spun = await settle();
  assert.ok(!spun.equals(plain), 'the op shows in the frame');

  // Values are parameters: OSC sets them, MIDI bytes drive them through a mapping.
  await send('/netbend/bend/spin/amount', 'f', [0]);
  assert.ok((await settle()).equals(plain), 'back at 0 degrees: the untouched frame');
  session.midi.fromJSON([{ param: '/netbend/bend/spin/amount', kind: 'cc', channel: 0, number: 21 }]);
  midi.play([0xb0, 21, 127]);
  assert.equal(session.params.target('/netbend/bend/spin/amount'), 180, 'a CC at its top turns the map half round');
  await send('/netbend/bend/spin/amount', 'f', [90]);
  assert.ok((await settle()).equals(spun));

  // A second op on the same layer, then moved before the first: order is structure (and undoable).
  await send('/netbend/bend/add', 'sss', ['-', 'L1', 'flip']);
  await send('/netbend/bend/L1_64_32-flip/amount', 'f', [1]);
  const rotateThenFlip = await settle();
  await send('/netbend/bend/L1_64_32-flip/move', 'i', [0]);
  assert.deepEqual(
    engine()
      .bend.features.list()
      .map((b) => b.name),
    ['L1_64_32-flip', 'spin'],
  );
  const flipThenRotate = await settle();
  assert.ok(!flipThenRotate.equals(rotateThenFlip), 'the order changes the picture');
  await send('/netbend/undo', '', []);
  assert.deepEqual(
    engine()
      .bend.features.list()
      .map((b) => b.name),
    ['spin', 'L1_64_32-flip'],
  );
  assert.ok((await settle()).equals(rotateThenFlip), 'undo gives the order back, and its frame');

  // A preset holds the ops and their values; clearing and loading it gives the frame back exactly.
  await session.command({ cmd: 'savePreset', name: 'bent' });
  const saved = JSON.parse(readFileSync(join(dir, 'presets', 'bent.json'), 'utf8'));
  assert.deepEqual(
    saved.bends.map((b: { name: string }) => b.name),
    ['spin', 'L1_64_32-flip'],
  );
  assert.equal(saved.params['/netbend/bend/spin/amount'], 90);
  await send('/netbend/bend/clear', '', []);
  assert.equal(engine().bend.features.size, 0);
  assert.ok((await settle()).equals(plain), 'cleared: the untouched frame');
  assert.ok(!session.scene.actions.has('/netbend/bend/spin/remove'), 'the removed op lost its moves');
  await session.command({ cmd: 'loadPreset', name: 'bent' });
  assert.ok((await settle()).equals(rotateThenFlip), 'the preset brings the ops back, values and order');
  assert.ok(session.scene.actions.has('/netbend/bend/spin/remove'));

  // A morph glides the amounts of the ops both scenes have (in show time: playing).
  session.params.set(PLAY, true, 'ui');
  await send('/netbend/bend/spin/amount', 'f', [0]);
  await session.command({ cmd: 'loadPreset', name: 'bent', morphSeconds: 1 });
  await clock.step();
  await clock.step();
  const mid = session.params.get('/netbend/bend/spin/amount') as number;
  assert.ok(mid > 0 && mid < 90, `halfway through the morph the angle is between (${mid})`);
  for (let i = 0; i < 12; i++) await clock.step();
  assert.equal(session.params.get('/netbend/bend/spin/amount'), 90);

  // Hostile moves are refused and change nothing.
  const before = JSON.stringify(engine().bend.features.list());
  await send('/netbend/bend/add', 'sss', ['-', 'L1', 'melt']);
  await send('/netbend/bend/add', 'sss', ['-', 'G.mapping.fc0', 'blur']);
  await send('/netbend/bend/add', 'sssfs', ['x', 'L1', 'blur', 1, 'list:1,2,(((']);
  await send('/netbend/bend/spin/channels', 's', ['share:9']);
  await send('/netbend/bend/spin/move', 'i', [99]);
  await send('/netbend/bend/spin/amount', 'f', [1e30]);
  assert.equal(JSON.stringify(engine().bend.features.list()), before);
  assert.equal(session.params.target('/netbend/bend/spin/channels'), 'share:0.5');
  assert.equal(session.params.target('/netbend/bend/spin/amount'), 90);

  // A take with ops animated and added mid-take re-renders frame for frame.
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));
  session.params.set(RECORD, true, 'ui');
  await until(() => session.stats().recording !== null, 'the take to start');
  for (let i = 0; i < 12; i++) {
    await send('/netbend/bend/spin/amount', 'f', [i * 15]);
    if (i === 4) await send('/netbend/bend/add', 'sssf', ['soft', 'L2', 'blur', 1.5]);
    if (i === 8) await send('/netbend/bend/L1_64_32-flip/remove', '', []);
    await engine().settled();
    await clock.step();
  }
  session.params.set(RECORD, false, 'ui');
  await until(() => notices.some((n) => n.startsWith('performance log saved')), 'the take log', 30_000);
  const folder = readdirSync(join(dir, 'takes'), { withFileTypes: true }).find((f) => f.isDirectory())!.name;
  const takeFile = join(dir, 'takes', `${folder}.take.json`);
  const take = await loadTake(takeFile);
  assert.ok(
    take.log.some((e) => e[1] === 's' && e[2].bends.some((b) => b.name === 'soft')),
    'the new op is in the logged structure',
  );
  const again = join(dir, 'again');
  const r = await cli(['render', '--take', takeFile, '--format', 'png', '--out', again, '--ep', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const live = readdirSync(join(dir, 'takes', folder))
    .filter((f) => f.endsWith('.png'))
    .sort();
  assert.deepEqual(
    readdirSync(again)
      .filter((f) => f.endsWith('.png'))
      .sort(),
    live,
  );
  const px = (f: string) => PNG.sync.read(readFileSync(f)).data;
  for (const f of live) assert.ok(px(join(again, f)).equals(px(join(dir, 'takes', folder, f))), `${f}: re-rendered as played`);
});

// A live show built in-process from ports other than the system's: a clock the test steps, OSC
// and MIDI that loop back in memory, ffmpeg writing PNG takes and a preset folder in a temp dir.
// Everything the show does at its edges goes through those ports, and its time is the clock's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, ROOT, tempDir, until } from './helpers.ts';
import { LoopbackMidi, LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { BPM, LiveSession, RECORD, TAP_TEMPO } from '../app/server/live-session.ts';
import { PLAY } from '../app/engine/frame-loop.ts';
import type { Frame } from '../app/engine/frame.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { OSC } from '../app/io/osc-server.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const SEED = '/netbend/source/z/seed';

function message(address: string, types: string, args: number[]): Uint8Array {
  const m = new OSC.Message(address);
  [m.types, m.args] = [types, args];
  return m.pack();
}

test('a show built from loopback ports: OSC, MIDI, taps, takes and presets all go through them, on the clock', async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const osc = new LoopbackOsc();
  const midi = new LoopbackMidi();
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', oscTargets: [{ host: '127.0.0.1', port: 7001 }] },
    { clock, osc, midi: midi.open, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const frames: Array<{ index: number; time: number }> = [];
  session.on('frame', (f) => frames.push({ index: f.index, time: f.time }));

  // Frames come when the clock says, at n / fps.
  for (let i = 0; i < 3; i++) await clock.step();
  assert.deepEqual(
    frames,
    [0, 1, 2].map((index) => ({ index, time: index / 10 })),
  );

  // OSC arrives through the carrier; the allow list still applies to its senders.
  osc.deliver(message(SEED, 'i', [42]));
  osc.deliver(message(SEED, 'i', [9]), { address: '10.1.2.3', port: 9000 });
  assert.equal(session.params.target(SEED), 42);
  assert.equal(session.osc!.stats.refused, 1, 'the foreign sender was refused');
  // Changed values leave through it once per frame, to the targets.
  osc.sent.length = 0;
  await clock.step();
  const out = osc.sent.map((s) => `${s.host}:${s.port} ${Buffer.from(s.datagram).toString('latin1')}`);
  assert.ok(
    out.some((s) => s.startsWith('127.0.0.1:7001 ') && s.includes(SEED)),
    `sent: ${out.join(' | ')}`,
  );

  // Tap tempo is stamped in show time: taps 0.4 s apart on the clock are 150 bpm, whatever the wall.
  session.params.set(TAP_TEMPO, true, 'ui');
  for (let i = 0; i < 4; i++) await clock.step();
  session.params.set(TAP_TEMPO, true, 'ui');
  assert.equal(session.params.target(BPM), 150);
  assert.equal(session.tempo.origin, clock.now(), 'beat 0 is the last tap, in frame time');

  // MIDI bytes from the port drive a mapping.
  session.midi.fromJSON([{ param: '/netbend/source/z/amplitude', kind: 'cc', channel: 0, number: 7 }]);
  midi.play([0xb0, 7, 127]);
  assert.equal(session.params.target('/netbend/source/z/amplitude'), session.params.spec('/netbend/source/z/amplitude')!.max);

  // A take goes through the recorder port: exactly the frames rendered while it was on.
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));
  session.params.set(RECORD, true, 'ui');
  await until(() => session.stats().recording !== null, 'the take to start');
  for (let i = 0; i < 3; i++) await clock.step();
  session.params.set(RECORD, false, 'ui');
  await until(() => notices.some((n) => n.startsWith('recorded ')), 'the take to be saved');
  const take = readdirSync(join(dir, 'takes'), { withFileTypes: true }).find((f) => f.isDirectory())!.name;
  assert.equal(readdirSync(join(dir, 'takes', take)).filter((f) => f.endsWith('.png')).length, 3);
  await until(() => notices.some((n) => n.startsWith('performance log saved')), 'the take log');

  // Presets are saved to, and listed from, the preset port.
  await session.command({ cmd: 'savePreset', name: 'on the clock' });
  assert.ok(existsSync(join(dir, 'presets', 'on-the-clock.json')));
  assert.deepEqual(
    (await session.listPresets()).map((p) => p.name),
    ['on the clock'],
  );
  // A preset file dropped into the folder by hand appears without a restart.
  const saved = JSON.parse(readFileSync(join(dir, 'presets', 'on-the-clock.json'), 'utf8'));
  writeFileSync(join(dir, 'presets', 'dropped.json'), JSON.stringify({ ...saved, name: 'dropped in' }));
  await until(() => session.presets.includes('dropped in'), 'the dropped preset to be listed');
});

test('paused is a preview: a change renders the held moment once, with the change in it', async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu' },
    { clock, osc: undefined, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const frames: Frame[] = [];
  session.on('frame', (f) => frames.push(f));
  for (let i = 0; i < 3; i++) await clock.step();
  session.params.set(PLAY, false, 'ui');
  await clock.step();
  assert.equal(frames.length, 3, 'paused: nothing new to show, nothing rendered');
  const held = frames.at(-1)!;
  session.params.set(SEED, 77, 'ui');
  await clock.step();
  assert.equal(frames.length, 4, 'the change rendered one frame');
  const preview = frames.at(-1)!;
  assert.equal(preview.preview, true);
  assert.equal(preview.time, held.time, 'at the held moment');
  assert.ok(!Buffer.from(preview.rgba!).equals(Buffer.from(held.rgba!)), 'with the new seed in it');
  await clock.step();
  assert.equal(frames.length, 4, 'once, not every slot');
  // Back to the old seed: the held moment as it was, exactly.
  session.params.set(SEED, session.params.spec(SEED)!.default as number, 'ui');
  await clock.step();
  assert.ok(Buffer.from(frames.at(-1)!.rgba!).equals(Buffer.from(held.rgba!)));
});

test('modulators are scene moves: added, edited, muted and removed over OSC, undone, and their base follows the performer', async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const osc = new LoopbackOsc();
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu' },
    { clock, osc, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const AMP = '/netbend/source/z/amplitude';
  const move = async (address: string, types: string, args: Array<number | string>) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [types, args];
    const before = session.osc!.stats.moves;
    osc.deliver(m.pack());
    assert.equal(session.osc!.stats.moves, before + 1, `${address} was taken as a move`);
    await session.scene.actions.queue.idle();
  };
  const values = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      await clock.step();
      out.push(session.params.get(AMP) as number);
    }
    return out;
  };
  await move('/netbend/mod/add', 'sss', [AMP, 'lfo', 'sine:0.7hz:depth=0.5:center=1']);
  const [mod] = session.modulators.list();
  assert.ok(mod && session.scene.actions.has(`/netbend/mod/${mod.id}/remove`), 'the modulator has its own moves');
  const swing = await values(5);
  assert.equal(new Set(swing).size, 5, `the LFO moves the value every frame: ${swing}`);
  assert.ok(
    swing.every((v) => v >= 0.5 - 1e-9 && v <= 1.5 + 1e-9),
    'around its center, within its depth',
  );

  // The performer moves the parameter: the LFO swings around the new value.
  session.params.set(AMP, 2, 'ui');
  assert.match(session.modulators.list()[0]!.source, /center=2\b/);
  assert.ok((await values(3)).every((v) => v >= 1.5 - 1e-9 && v <= 2.5 + 1e-9));

  await move(`/netbend/mod/${mod.id}/mute`, 'i', [1]);
  const held = await values(3);
  assert.equal(new Set(held).size, 1, 'muted: the value stays where it is');
  await move('/netbend/undo', '', []);
  assert.equal(session.modulators.list()[0]!.enabled, true, 'undo unmutes');

  await move(`/netbend/mod/${mod.id}/set`, 's', ['square:2hz:depth=0.25:center=1']);
  assert.ok(
    (await values(4)).every((v) => Math.abs(Math.abs(v - 1) - 0.25) < 1e-9),
    'a square wave now',
  );

  await move(`/netbend/mod/${mod.id}/remove`, '', []);
  assert.equal(session.modulators.list().length, 0);
  assert.equal(session.scene.actions.has(`/netbend/mod/${mod.id}/remove`), false, 'its moves went with it');
  await move('/netbend/undo', '', []);
  assert.equal(session.modulators.list()[0]?.source, 'square:2hz:depth=0.25:center=1', 'undo brings it back');
  assert.ok(session.scene.actions.has(`/netbend/mod/${mod.id}/remove`));
  // A bad spec is refused and changes nothing.
  await move(`/netbend/mod/${mod.id}/set`, 's', ['wobble:3hz']);
  assert.equal(session.modulators.list()[0]?.source, 'square:2hz:depth=0.25:center=1');
});

test('a layer blend set to the value it followed becomes its own (typing 0 owns it, as Backspace does)', async (t) => {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const { session } = await LiveSession.open(
    { model: fixture('stylegan2-64-tiny.onnx'), ep: 'cpu' },
    { clock, osc: undefined, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  await session.command({ cmd: 'loadPartner', path: fixture('stylegan2-64-tiny-b.onnx') });
  session.params.set('/netbend/blend/all', 0.5, 'ui');
  const layer = '/netbend/blend/G.synthesis.b32';
  assert.equal(session.params.get(layer), 0, 'the layer follows all, at its own 0 underneath');
  assert.deepEqual(session.engine.structure().blendLayers, []);
  session.params.set(layer, 0, 'ui');
  assert.deepEqual(session.engine.structure().blendLayers, ['G.synthesis.b32'], 'now its own 0, not all');
});

// One scene: structural moves are OSC-addressable actions with the page's validation, edit slots
// keep their names (and so their mappings) across preset loads, morphs glide every continuous
// value with structure landing at the chosen point, undo restores each earlier state exactly, and
// the performance lock holds preset loads and model switches back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, fixture, ROOT, tempDir } from './helpers.ts';
import { LiveSession, LOCK } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { OSC } from '../app/io/osc-server.ts';
import { MidiRouter } from '../app/control/midi-mapping.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const PARTNER = fixture('stylegan2-64-tiny-b.onnx');
const DEFAULT_MODEL = join(ROOT, 'models', 'default.onnx');

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function preset(name: string, o: { model?: string; edits?: unknown[]; params?: Record<string, unknown>; blend?: Record<string, number>; partner?: string; modulators?: unknown[] }) {
  return {
    netbend: 'preset',
    version: 2,
    name,
    model: { path: o.model ?? MODEL },
    partner: o.partner ? { path: o.partner } : null,
    params: o.params ?? {},
    edits: o.edits ?? [],
    blend: o.blend ?? {},
    taps: [],
    modulators: o.modulators ?? [],
    mappings: { midi: [], osc: [] },
  };
}

async function open(t: { after(fn: () => unknown): void }, presets: Record<string, object> = {}, extra: { fps?: number; modelDirs?: string[] } = {}) {
  const dir = tempDir(t);
  const presetsDir = join(dir, 'presets');
  mkdirSync(presetsDir);
  for (const [file, body] of Object.entries(presets)) writeFileSync(join(presetsDir, `${file}.json`), JSON.stringify(body));
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', modelDirs: extra.modelDirs ?? [FIXTURES] },
    systemPorts({ fps: extra.fps, midi: false, oscPort: 0, presetsDir, recordDir: join(dir, 'rec') }),
  );
  t.after(() => session.close());
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  const osc = (address: string, types = '', args: Array<number | string> = []) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [types, args];
    sock.send(m.pack(), session.osc!.port, '127.0.0.1');
  };
  /** Sends and waits until the OSC server has taken the message and the scene's queue is idle. */
  const oscMove = async (address: string, types = '', args: Array<number | string> = []) => {
    const before = session.osc!.stats.moves;
    let dropped = session.osc!.stats.dropped;
    osc(address, types, args);
    // A busy turn drops OSC past its time budget (counted): a dropped move is sent again.
    await until(() => {
      if (session.osc!.stats.dropped > dropped && session.osc!.stats.moves === before) {
        dropped = session.osc!.stats.dropped;
        osc(address, types, args);
      }
      return session.osc!.stats.moves > before;
    }, `OSC move ${address}`);
    await session.scene.actions.queue.idle();
    await session.engine.settled();
  };
  return { session, osc, oscMove, presetsDir };
}

test('structural moves over OSC: checked like the page, listed, refused with a reason, files only from the model folders', async (t) => {
  const { session, osc, oscMove } = await open(t);
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));
  await oscMove('/netbend/edit/add', 'sssf', ['warp', 'b16', 'scale', 1.5]);
  await oscMove('/netbend/edit/add', 'sss', ['-', 'b32.conv0', 'ablate']);
  assert.deepEqual(
    session.edits().map((e) => [e.name, e.address]),
    [
      ['warp', '/netbend/edit/warp/amount'],
      ['b32.conv0-ablate', '/netbend/edit/b32.conv0-ablate/amount'],
    ],
  );
  assert.equal(session.params.target('/netbend/edit/warp/amount'), 1.5);
  assert.equal(session.params.target('/netbend/edit/b32.conv0-ablate/amount'), 0, 'an edit added without an amount starts at its identity');
  const rejected = session.osc!.stats.rejected;
  await oscMove('/netbend/edit/add', 'sss', ['warp', 'b16', 'scale']); // taken name
  await oscMove('/netbend/edit/add', 'sss', ['x', 'b16', 'melt']); // unknown op
  await oscMove('/netbend/edit/add', 's', ['x']); // too few arguments
  await oscMove('/netbend/partner/load', 's', ['/etc/passwd']);
  await oscMove('/netbend/partner/load', 's', ['../../../etc/passwd.onnx']);
  assert.equal(session.osc!.stats.rejected, rejected + 5);
  assert.equal(session.engine.bend.partner, undefined);
  assert.equal(session.edits().length, 2, 'refused moves change nothing');
  await oscMove('/netbend/partner/load', 's', ['stylegan2-64-tiny-b.onnx']);
  assert.ok((session.engine.bend.partner as string | undefined)?.endsWith('stylegan2-64-tiny-b.onnx'));
  // A pattern never fires a move. Both are sent again while a busy turn drops either (counted):
  // a marker dropped would never come, a pattern dropped would prove nothing.
  for (let tries = 0; ; tries++) {
    const [moves, dropped] = [session.osc!.stats.moves, session.osc!.stats.dropped];
    osc('/netbend/edit/*/remove');
    osc('/netbend/partner/load', 's', ['stylegan2-64-tiny.onnx']); // a marker that lands after it
    await until(() => session.osc!.stats.moves > moves || session.osc!.stats.dropped > dropped, 'the marker');
    await session.scene.actions.queue.idle();
    if (session.osc!.stats.dropped === dropped) break;
    assert.ok(tries < 10, 'the pattern and its marker dropped ten times');
  }
  assert.equal(session.edits().length, 2, 'no edit removed by a pattern');
  // The moves are in the namespace, with their signatures.
  const { namespace } = await import('../app/io/oscquery.ts');
  const { signature } = await import('../app/scene/actions.ts');
  const moveNodes = session.scene.actions.list().map((a) => ({ address: a.address, types: signature(a.args), description: a.description }));
  const add = namespace(session.params, '/netbend/edit/add', moveNodes) as { TYPE: string; ACCESS: number };
  assert.deepEqual([add.TYPE, add.ACCESS], ['sss[f]', 2]);
  const removeWarp = namespace(session.params, '/netbend/edit/warp/remove', moveNodes) as { TYPE: string };
  assert.equal(removeWarp.TYPE, 'I', 'an argument-free move is a trigger');
  await oscMove('/netbend/edit/warp/remove');
  assert.deepEqual(
    session.edits().map((e) => e.name),
    ['b32.conv0-ablate'],
  );
  assert.equal(
    namespace(
      session.params,
      '/netbend/edit/warp/remove',
      session.scene.actions.list().map((a) => ({ address: a.address, types: signature(a.args), description: a.description })),
    ),
    undefined,
    'its remove move went with it',
  );
});

test('an OSC or MIDI mapping to an edit amount still drives its edit after two preset loads and coming back', async (t) => {
  const grainA = { name: 'grain', target: 'b16', op: 'noise', amount: 0.2, seed: 1 };
  const { session, osc, oscMove } = await open(t, {
    a: preset('a', { edits: [grainA, { target: 'b32', op: 'scale', amount: 1.2 }] }),
    b: preset('b', { edits: [{ target: 'b8', op: 'offset', amount: 0.1 }], params: { '/netbend/source/z/seed': 3 } }),
    c: preset('c', { edits: [{ ...grainA, amount: 0.6 }] }),
  });
  await oscMove('/netbend/preset/load', 's', ['a']);
  const midi = new MidiRouter(session.params, {});
  t.after(() => midi.dispose());
  midi.add({ kind: 'cc', channel: 0, number: 21, param: '/netbend/edit/grain/amount', min: 0, max: 1 });
  for (const name of ['b', 'c', 'a']) await oscMove('/netbend/preset/load', 's', [name]);
  assert.deepEqual(
    session.edits().map((e) => e.name),
    ['grain', 'b32-scale'],
  );
  osc('/netbend/edit/grain/amount', 'f', [0.75]);
  await until(() => session.params.target('/netbend/edit/grain/amount') === 0.75, 'the OSC value on grain');
  assert.equal(session.engine.bend.listEdits().find((e) => e.name === 'grain')?.amount, 0.75, 'the edit itself moved');
  midi.handle([0xb0, 21, 127]);
  assert.equal(session.params.target('/netbend/edit/grain/amount'), 1, 'MIDI still lands on the same slot');
});

test('a 2 s morph at 10 fps glides every continuous value monotonically; structure lands at the chosen point', async (t) => {
  const shared = { name: 'warp', target: 'b16', op: 'scale', amount: 1 };
  const lfo = (depth: number) => [{ id: 'breathe', target: '/netbend/knobs/k2', kind: 'lfo', source: `sine:0.5hz:depth=${depth}:center=0.5`, enabled: true }];
  const a = preset('a', {
    modulators: lfo(0.1),
    edits: [shared, { name: 'onlyA', target: 'b8', op: 'offset', amount: 0 }],
    params: { '/netbend/source/z/speed': 0.2, '/netbend/knobs/k1': 0 },
    partner: PARTNER,
    blend: { all: 0 },
  });
  const b = preset('b', {
    modulators: lfo(0.4),
    edits: [
      { ...shared, amount: 2.5 },
      { name: 'onlyB', target: 'b32', op: 'noise', amount: 0.5 },
    ],
    params: { '/netbend/source/z/speed': 1.8, '/netbend/knobs/k1': 1 },
    partner: PARTNER,
    blend: { all: 1 },
  });
  for (const at of ['start', 'end'] as const) {
    const { session, oscMove } = await open(t, { a, b }, { fps: 10 });
    await oscMove('/netbend/preset/load', 's', ['a']);
    // Frames on the offline clock (n / 10 s), so every slot renders whatever this machine is doing.
    await session.loop.stop();
    const samples: Array<{ speed: number; k1: number; warp: number; blend: number; depth: number; edits: string }> = [];
    await oscMove('/netbend/preset/load', 'sfs', ['b', 2, at]);
    for (let i = 0; i <= 30; i++) {
      const time = i / 10;
      session.scene.beforeFrame(time);
      await session.scene.actions.queue.idle();
      await session.engine.settled();
      await session.engine.render({ index: i, time, dt: 0.1 });
      const p = session.params;
      samples.push({
        speed: p.number('/netbend/source/z/speed'),
        k1: p.number('/netbend/knobs/k1'),
        warp: p.number('/netbend/edit/warp/amount'),
        blend: p.number('/netbend/blend/all'),
        depth: session.modulators.lfoOf('breathe')!.depth,
        edits: session
          .edits()
          .map((e) => e.name)
          .sort()
          .join(),
      });
    }
    assert.equal(session.scene.morphing, false);
    assert.equal(samples.at(-1)!.edits, 'onlyB,warp', 'the final structure');
    assert.deepEqual([samples.at(-1)!.speed, samples.at(-1)!.k1, samples.at(-1)!.warp, samples.at(-1)!.blend], [1.8, 1, 2.5, 1], 'the final values');
    // An LFO both scenes have glides its depth when structure lands first; at the end it switches there.
    for (const key of at === 'start' ? (['speed', 'k1', 'warp', 'blend', 'depth'] as const) : (['speed', 'k1', 'warp', 'blend'] as const)) {
      const xs = samples.map((s) => s[key]);
      for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! >= xs[i - 1]! - 1e-12, `${at}: ${key} never goes back (${xs.slice(0, i + 1).join(', ')})`);
      const between = xs.filter((x) => x > xs[0]! + 1e-9 && x < xs.at(-1)! - 1e-9);
      assert.ok(between.length >= 18, `${at}: ${key} passes through intermediate values (${between.length} frames of ${xs.length})`);
    }
    const during = samples.filter((s) => s.speed > 0.2 + 1e-9 && s.speed < 1.8 - 1e-9).map((s) => s.edits);
    assert.ok(during.length >= 18);
    assert.deepEqual([...new Set(during)], [at === 'start' ? 'onlyB,warp' : 'onlyA,warp'], `${at}: the structure while gliding`);
  }
});

test('undo after 20 mixed changes restores each earlier state exactly, frames included; redo walks forward again', async (t) => {
  const { session } = await open(t, { p: preset('p', { edits: [{ name: 'pp', target: 'b64', op: 'scale', amount: 0.7 }], params: { '/netbend/source/z/seed': 9 } }) });
  await session.loop.stop();
  const snap = async () => {
    await session.scene.actions.queue.idle();
    await session.engine.settled();
    const f = await session.engine.render({ index: 0, time: 1.25, dt: 0 });
    const values = Object.fromEntries(Object.entries(session.params.values()).filter(([a]) => !a.startsWith('/netbend/stats/') && !a.startsWith('/netbend/outputs/')));
    return {
      values,
      blends: JSON.stringify(session.engine.bend.blendAmounts()),
      structure: JSON.stringify(session.engine.structure()),
      edits: JSON.stringify(session.engine.bend.listEdits().map(({ weights: _w, ...e }) => e)),
      partner: session.engine.bend.partner ?? null,
      taps: session.engine.tapped().join(),
      model: session.engine.file,
      rgba: Buffer.from(f.rgba!),
    };
  };
  const ui = (cmd: Parameters<LiveSession['command']>[0]) => session.command(cmd);
  const steps: Array<() => Promise<unknown>> = [
    () => ui({ cmd: 'set', address: '/netbend/source/z/speed', value: 2 }),
    () => ui({ cmd: 'addEdit', target: 'b16', op: 'scale', amount: 1.8 }),
    () => ui({ cmd: 'set', address: '/netbend/edit/b16-scale/amount', value: 2.2 }),
    () => ui({ cmd: 'loadPartner', path: 'stylegan2-64-tiny-b.onnx' }),
    () => ui({ cmd: 'set', address: '/netbend/blend/all', value: 0.4 }),
    () => ui({ cmd: 'addEdit', target: 'b32.conv1', op: 'noise', amount: 0.3, name: 'grain' }),
    () => session.scene.move('/netbend/tap/add', ['b32'], 'osc'),
    () => ui({ cmd: 'set', address: '/netbend/source/z/seed', value: 42 }),
    () => ui({ cmd: 'removeEdit', edit: 'b16-scale' }),
    () => ui({ cmd: 'set', address: '/netbend/knobs/k3', value: 0.5 }),
    () => ui({ cmd: 'loadPreset', name: 'p' }),
    () => ui({ cmd: 'set', address: '/netbend/edit/pp/amount', value: 1.1 }),
    () => ui({ cmd: 'addEdit', target: 'b8', op: 'offset', amount: 0.05 }),
    () => ui({ cmd: 'loadPartner', path: 'stylegan2-64-tiny-b.onnx' }),
    () => ui({ cmd: 'set', address: '/netbend/blend/G.synthesis.b16', value: 1.3 }),
    () => ui({ cmd: 'restore' }),
    () => ui({ cmd: 'set', address: '/netbend/source/z/amplitude', value: 1.4 }),
    () => ui({ cmd: 'loadModel', file: 'stylegan2-64-tiny-b.onnx' }),
    () => ui({ cmd: 'set', address: '/netbend/source/z/speed', value: 0.1 }),
    () => ui({ cmd: 'addEdit', target: 'b4', op: 'scale', amount: 0.5, name: 'last' }),
  ];
  const states = [await snap()];
  for (const step of steps) {
    await step();
    session.scene.history.cut(); // each change its own step, as a released slider is
    states.push(await snap());
  }
  assert.equal(session.scene.history.depth.undo, 20);
  for (let i = states.length - 2; i >= 0; i--) {
    await session.command({ cmd: 'undo' });
    const s = await snap();
    const want = states[i]!;
    assert.deepEqual({ ...s, rgba: undefined }, { ...want, rgba: undefined }, `undo back to state ${i}`);
    assert.ok(s.rgba.equals(want.rgba), `undo back to state ${i}: the same frame`);
  }
  for (let i = 1; i < states.length; i++) {
    await session.command({ cmd: 'redo' });
    const s = await snap();
    assert.deepEqual({ ...s, rgba: undefined }, { ...states[i]!, rgba: undefined }, `redo to state ${i}`);
    assert.ok(s.rgba.equals(states[i]!.rgba), `redo to state ${i}: the same frame`);
  }
});

test('the performance lock: the page asks before a preset or a model switch, OSC cannot switch the model', async (t) => {
  const { session, oscMove } = await open(
    t,
    { other: preset('other', { model: DEFAULT_MODEL }), same: preset('same', { params: { '/netbend/source/z/seed': 5 } }) },
    { modelDirs: [FIXTURES, join(ROOT, 'models')] },
  );
  session.params.set(LOCK, true, 'ui');
  await assert.rejects(session.command({ cmd: 'loadPreset', name: 'same' }), /^Error: locked: load preset "same"\? confirm to go ahead$/);
  await assert.rejects(session.command({ cmd: 'loadModel', file: 'stylegan2-64-tiny-b.onnx' }), /locked: switch the model/);
  assert.equal(session.params.target('/netbend/source/z/seed'), 0);
  await session.command({ cmd: 'loadPreset', name: 'same', confirm: true });
  assert.equal(session.params.target('/netbend/source/z/seed'), 5, 'confirmed, it loads');
  const rejected = session.osc!.stats.rejected;
  await oscMove('/netbend/model/load', 's', ['default.onnx']);
  await oscMove('/netbend/preset/load', 's', ['other']);
  assert.equal(session.osc!.stats.rejected, rejected + 2, 'OSC may not switch the model while locked');
  assert.ok(session.engine.file.endsWith('stylegan2-64-tiny.onnx'));
  await oscMove('/netbend/preset/load', 's', ['same']); // a recall of the same model goes through
  session.params.set(LOCK, false, 'ui');
  await oscMove('/netbend/model/load', 's', ['default.onnx']);
  assert.ok(session.engine.file.endsWith('default.onnx'), 'unlocked, OSC switches the model');
});

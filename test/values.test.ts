// Values at every edge: soft ranges have finite hard limits, NaN / Inf / out-of-bounds values are
// refused and counted on every path (registry, OSC, modulators, presets), hard ranges hold at
// their edges, and transient parameters (record, recall, play) never travel in a preset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, tempDir } from './helpers.ts';
import { DEFAULT_LIMITS, hardBounds, ParameterRegistry, ParamRefused, type ParamRefusal } from '../app/core/registry.ts';
import { RefusalLog } from '../app/control/refusal-log.ts';
import { OscServer, OSC } from '../app/io/osc-server.ts';
import { UdpTransport } from '../app/io/osc-transport.ts';
import { ModulationBank } from '../app/control/modulation.ts';
import { Tempo } from '../app/control/tempo.ts';
import { LiveSession, RECALL, RECORD } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { PLAY } from '../app/engine/frame-loop.ts';

const DEFAULT_MODEL = join(ROOT, 'models', 'default.onnx');
const BENT = JSON.parse(readFileSync(join(ROOT, 'presets', 'bent.json'), 'utf8'));

function registry(): ParameterRegistry {
  const p = new ParameterRegistry();
  p.define({ address: '/netbend/source/z/amplitude', type: 'float', default: 1, min: 0, max: 3, clamp: false, limit: [-100, 100] });
  p.define({ address: '/netbend/source/z/seed', type: 'int', default: 0, min: 0, max: 9999, clamp: false });
  p.define({ address: '/netbend/free', type: 'float', default: 0 });
  p.define({ address: '/netbend/fader', type: 'float', default: 0, min: 0, max: 1 });
  return p;
}

test('every number parameter has finite hard bounds; soft ranges refuse beyond them, hard ranges hold at the edge', () => {
  const p = registry();
  const refusals: ParamRefusal[] = [];
  p.on('refuse', (r) => refusals.push(r));
  for (const spec of p.list()) {
    const [lo, hi] = hardBounds(spec);
    assert.ok(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, `${spec.address}: ${lo}..${hi}`);
  }
  assert.deepEqual(hardBounds(p.spec('/netbend/free')!), [...DEFAULT_LIMITS.float]);
  assert.deepEqual(hardBounds(p.spec('/netbend/source/z/seed')!), [...DEFAULT_LIMITS.int]);

  // Outside the slider range but within the limit: a soft range takes it.
  p.set('/netbend/source/z/amplitude', 7, 'osc');
  assert.equal(p.target('/netbend/source/z/amplitude'), 7);
  for (const bad of [1e308, -3.4e38, 101, NaN, Infinity, -Infinity, 'NaN', '1e999', [], {}]) {
    assert.throws(() => p.set('/netbend/source/z/amplitude', bad, 'osc'), ParamRefused, String(bad));
  }
  assert.throws(() => p.set('/netbend/source/z/seed', -3.4e38, 'osc'), ParamRefused);
  assert.throws(() => p.set('/netbend/free', 2e6, 'ui'), /out of bounds/);
  assert.equal(p.target('/netbend/source/z/amplitude'), 7, 'the last good value holds');
  assert.equal(p.target('/netbend/source/z/seed'), 0);
  assert.equal(p.refused, 12);
  assert.equal(refusals.length, 12);
  assert.deepEqual({ address: refusals[0]!.address, source: refusals[0]!.source }, { address: '/netbend/source/z/amplitude', source: 'osc' });
  assert.match(refusals[0]!.reason, /out of bounds -100\.\.100 \(got 1e\+308\)/);

  // Hard range: the value is held at its edge, and that is not a refusal.
  p.set('/netbend/fader', 1.2, 'osc');
  assert.equal(p.target('/netbend/fader'), 1);
  assert.throws(() => p.set('/netbend/fader', NaN, 'osc'), ParamRefused);
  // Ints are integers.
  p.set('/netbend/source/z/seed', 41.6, 'osc');
  assert.equal(p.target('/netbend/source/z/seed'), 42);
  // check() answers like set() but changes and counts nothing.
  const before = p.refused;
  assert.equal(p.check('/netbend/source/z/seed', 3.2), 3);
  assert.throws(() => p.check('/netbend/source/z/seed', 1e300), ParamRefused);
  assert.equal(p.refused, before);
  assert.equal(p.target('/netbend/source/z/seed'), 42);
});

test('refusals become one warning per parameter per interval, with the count carried', () => {
  const p = registry();
  let now = 0;
  const said: string[] = [];
  const log = new RefusalLog(p, (t) => said.push(t), { intervalMs: 1000, now: () => now });
  const refuse = (address: string) => assert.throws(() => p.set(address, NaN, 'osc'));
  for (let i = 0; i < 100; i++) refuse('/netbend/source/z/amplitude');
  refuse('/netbend/free');
  assert.equal(said.length, 2, said.join('\n'));
  assert.match(said[0]!, /refused from osc: \/netbend\/source\/z\/amplitude: expected a finite number/);
  now = 1500;
  refuse('/netbend/source/z/amplitude');
  assert.equal(said.length, 3);
  assert.match(said[2]!, /99 more refused since the last warning/);
  log.close();
  refuse('/netbend/free');
  assert.equal(said.length, 3, 'closed: no more warnings');
});

test('OSC over UDP: absurd values are refused and counted, the show keeps its values', async (t) => {
  const p = registry();
  const osc = new OscServer(p, { transport: new UdpTransport(0) });
  const port = await osc.start();
  t.after(() => osc.close());
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  const send = (address: string, type: string, value: number) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [type, [value]];
    sock.send(m.pack(), port, '127.0.0.1');
  };
  send('/netbend/source/z/amplitude', 'f', -3.4e38);
  send('/netbend/source/z/seed', 'f', -3.4e38);
  send('/netbend/source/z/amplitude', 'f', Infinity);
  send('/netbend/source/z/amplitude', 'f', 3e38);
  send('/netbend/fader', 'f', 0.25); // a good one last: once it lands, all before it were handled
  const t0 = Date.now();
  while (p.target('/netbend/fader') !== 0.25) {
    if (Date.now() - t0 > 5000) throw new Error('the good OSC message never landed');
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(p.target('/netbend/source/z/amplitude'), 1);
  assert.equal(p.target('/netbend/source/z/seed'), 0);
  assert.equal(osc.stats.rejected, 4);
  assert.equal(p.refused, 4);
});

test('a modulator whose value goes NaN or out of bounds is refused that frame and plays on', () => {
  const p = registry();
  const bank = new ModulationBank(p, new Tempo());
  bank.add({ id: 'wild', target: '/netbend/source/z/amplitude', kind: 'expr', source: 'frame < 1 ? 2 : (frame < 2 ? log(0) : (frame < 3 ? 1000 : 0.5))' });
  const errors: string[] = [];
  for (let frame = 0; frame < 4; frame++) {
    errors.push(...bank.apply(frame / 30, frame));
    if (frame === 0) assert.equal(p.target('/netbend/source/z/amplitude'), 2);
    if (frame === 1 || frame === 2) assert.equal(p.target('/netbend/source/z/amplitude'), 2, `frame ${frame}: the last good value holds`);
  }
  assert.deepEqual(errors, []);
  assert.equal(p.target('/netbend/source/z/amplitude'), 0.5, 'still modulating after the refusals');
  assert.equal(p.refused, 2);
  assert.equal(bank.list()[0]!.enabled, true);
});

test('netbend play refuses presets with absurd values or absurd nesting, in one line', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, body);
    return file;
  };
  const withModel = (mutate: (p: typeof BENT) => void) => {
    const p = structuredClone(BENT);
    p.model.path = DEFAULT_MODEL;
    mutate(p);
    return JSON.stringify(p);
  };
  const cases: Array<[string, string, RegExp]> = [
    ['huge.json', withModel((p) => (p.params['/netbend/source/z/amplitude'] = 1e308)), /\/netbend\/source\/z\/amplitude: out of bounds .* \(got 1e\+308\)/],
    ['seed.json', withModel((p) => (p.params['/netbend/source/z/seed'] = -3.4e38)), /\/netbend\/source\/z\/seed: out of bounds/],
    ['edit.json', withModel((p) => (p.edits[0].amount = 1e300)), /edits\[0\]\.amount: out of bounds/],
    // Written as text: a value this deep cannot even be stringified.
    ['deep.json', withModel((p) => (p.mappings.midi = [{ deep: 'DEEP' }])).replace('"DEEP"', '['.repeat(100_000) + ']'.repeat(100_000)), /nested deeper than 32 levels/],
  ];
  for (const [name, body, pattern] of cases) {
    const r = await cli(['play', write(name, body), '--frames', '1', '--ep', 'cpu', '--out', join(dir, `out-${name}`)]);
    assert.notEqual(r.code, 0, `${name} is refused`);
    assert.match(r.stderr, pattern, name);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

test('a preset carrying record, recall and play neither records, recalls nor pauses; saved presets never hold them', async (t) => {
  const dir = tempDir(t);
  const presets = join(dir, 'presets');
  const recordings = join(dir, 'recordings');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(presets);
  // Position 0 of the bank is another scene: a recall would land there.
  const other = structuredClone(BENT);
  Object.assign(other, { name: 'aaa-other', edits: [], modulators: [], model: { path: DEFAULT_MODEL } });
  other.params = { '/netbend/source/z/seed': 77 };
  writeFileSync(join(presets, 'aaa-other.json'), JSON.stringify(other));
  const loaded = structuredClone(BENT);
  Object.assign(loaded, { name: 'zzz-actions', modulators: [], model: { path: DEFAULT_MODEL } });
  loaded.params = { '/netbend/source/z/seed': 5, [RECORD]: true, [RECALL]: 0, [PLAY]: false };
  const file = join(presets, 'zzz-actions.json');
  writeFileSync(file, JSON.stringify(loaded));

  const { session, warnings } = await LiveSession.open({ model: file }, systemPorts({ presetsDir: presets, recordDir: recordings, midi: false, fps: 30 }));
  t.after(() => session.close());
  assert.equal(session.params.target('/netbend/source/z/seed'), 5, 'the scene applied');
  assert.equal(session.params.target(RECORD), false);
  assert.equal(session.params.target(PLAY), true);
  assert.equal(session.stats().recording, null);
  for (const a of [RECORD, RECALL, PLAY])
    assert.ok(
      warnings.some((w) => w.includes(a) && /not applied/.test(w)),
      `says it skipped ${a}: ${warnings.join('; ')}`,
    );
  assert.throws(() => readdirSync(recordings), /ENOENT/, 'no recording was started');

  // Loading it live (the page's command) behaves the same.
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));
  await session.command({ cmd: 'loadPreset', name: 'zzz-actions' });
  assert.equal(session.params.target('/netbend/source/z/seed'), 5, 'no recall to position 0 happened');
  assert.equal(session.stats().recording, null);

  // Saving captures no action, whatever state they are in.
  session.params.set(RECALL, 3, 'ui');
  session.params.set('/netbend/source/z/seed', 9, 'ui');
  const saved = (await session.command({ cmd: 'savePreset', name: 'captured' })) as string;
  const body = JSON.parse(readFileSync(saved, 'utf8'));
  assert.equal(body.params['/netbend/source/z/seed'], 9);
  for (const a of [RECORD, RECALL, PLAY, '/netbend/tempo/tap']) assert.equal(a in body.params, false, `${a} is not captured`);
});

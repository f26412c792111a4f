// Issue 13, live: examples recorded from OSC-fed inputs against the show's own parameters, trained
// by the real trainer in its worker, played as a controller: the inputs sent again bring the
// recorded targets back and the frames follow. And everything hostile a sender or a page can do
// to it (malformed /wek/inputs, record storms, training on nothing) is refused while the show plays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { maxDiff, ROOT, tempDir } from './helpers.ts';
import { LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { sendOsc } from './show-steps.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { PLAY } from '../app/engine/frame-loop.ts';
import type { Frame } from '../app/engine/frame.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { decodeOsc, OSC, type OscPacket, type OscPacketMessage } from '../app/io/osc-server.ts';
import { parseDataset } from '../app/learn/dataset.ts';
import { ExampleError, ExampleSet, MAX_EXAMPLES } from '../app/learn/example-set.ts';
import { LEARN_EXAMPLES, LEARN_RECORDING } from '../app/core/addresses.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const AMP = '/netbend/source/z/amplitude';
const OFFSET = '/netbend/source/z/offset';
const EDIT = '/netbend/edit/warp/amount';
const TARGETS = [AMP, OFFSET, EDIT];
const TARGET = { host: '127.0.0.1', port: 57130 };

async function show(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const clock = new SteppedClock(10);
  const osc = new LoopbackOsc();
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', oscTargets: [TARGET] },
    { clock, osc, midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const notices: Array<{ level: string; text: string }> = [];
  session.on('notice', (n) => notices.push(n));
  let last: Frame | undefined;
  session.on('frame', (f) => (last = f));
  const send = (address: string, types: string, args: Array<number | string>, once = false) => sendOsc(session, osc, address, types, args, once);
  /** The next notice matching `re` (from now on), or a failure after `ms`. */
  const notice = (re: RegExp, ms = 60_000) =>
    new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => (off(), fail(new Error(`no notice matching ${re} in ${ms} ms; got: ${notices.map((n) => n.text).join(' | ')}`))), ms);
      const off = session.on('notice', (n) => {
        if (!re.test(n.text)) return;
        clearTimeout(timer);
        off();
        ok(n.text);
      });
    });
  const frame = () => Buffer.from(last!.rgba!);
  return { dir, clock, osc, session, notices, send, notice, frame };
}

/** Every message the show sent to `to`, bundles opened. */
function sentTo(osc: LoopbackOsc, to: { host: string; port: number }): OscPacketMessage[] {
  const out: OscPacketMessage[] = [];
  const walk = (p: OscPacket): void => void ('elements' in p ? p.elements.forEach(walk) : out.push(p));
  for (const s of osc.sent) if (s.host === to.host && s.port === to.port) walk(decodeOsc(s.datagram)!);
  return out;
}

test('four OSC-fed inputs recorded against three presets, trained, played: the inputs bring the targets back and the frames follow', async (t) => {
  const { dir, clock, osc, session, send, notice, frame } = await show(t);
  const p = session.params;
  await clock.step();
  p.set(PLAY, false, 'ui');
  await send('/netbend/edit/add', 'sssf', ['warp', 'L1', 'scale', 1]);

  // Three presets, each its own set of the three targets.
  const sets = [
    { name: 'calm', values: [0.5, -1, 0.25], point: [0.1, 0.2, 0.3, 0.4] },
    { name: 'wild', values: [2, 0.5, 1.75], point: [0.9, 0.1, 0.6, 0.2] },
    { name: 'dark', values: [1.25, 1.5, -0.5], point: [0.4, 0.8, 0.1, 0.9] },
  ];
  for (const s of sets) {
    TARGETS.forEach((a, j) => p.set(a, s.values[j], 'ui'));
    await send('/netbend/preset/save', 's', [s.name]);
  }
  // Columns: the four Wekinator inputs (a pattern), the three targets.
  await send('/wek/inputs', 'ffff', [0, 0, 0, 0]);
  await send('/netbend/learn/inputs', 's', ['/netbend/wek/inputs/*']);
  await send('/netbend/learn/targets', 's', [TARGETS.join(',')]);
  assert.deepEqual(
    session.learn.info().inputs,
    [0, 1, 2, 3].map((i) => `/netbend/wek/inputs/${i}`),
  );
  assert.deepEqual(session.learn.info().targets, TARGETS);

  // Per preset: loaded, then several examples while the inputs hover near its own point.
  const recorded: number[][] = [];
  for (const s of sets) {
    await send('/netbend/preset/load', 's', [s.name]);
    for (let j = 0; j < 5; j++) {
      const inputs = s.point.map((v, i) => v + 0.01 * (j - 2) * (i % 2 ? 1 : -1));
      await send('/wek/inputs', 'ffff', inputs);
      await send('/netbend/learn/record', '', []);
      recorded.push([...inputs, ...s.values]);
    }
  }
  assert.equal(p.get(LEARN_EXAMPLES), 15);
  assert.equal(session.learn.info().recent.length, 15);

  // Saved beside the presets as CSV, with which columns are inputs; cleared and loaded back.
  await send('/netbend/learn/save', 's', ['three']);
  const csv = parseDataset(readFileSync(join(dir, 'presets', 'datasets', 'three.csv'), 'utf8'));
  assert.deepEqual(csv.columns, [...session.learn.info().inputs, ...TARGETS]);
  assert.equal(csv.rows.length, 15);
  csv.rows.forEach((r, i) => assert.ok(maxDiff(r, recorded[i]!) < 1e-6, `row ${i} as recorded`));
  await send('/netbend/learn/clear', '', []);
  assert.equal(p.get(LEARN_EXAMPLES), 0);
  await send('/netbend/learn/load', 's', ['three']);
  assert.equal(p.get(LEARN_EXAMPLES), 15);
  assert.equal(session.learn.info().name, 'three');

  // Trained off the frame loop by the real trainer: frames keep coming while it runs.
  const trained = notice(/mapping "three" trained/);
  await send('/netbend/learn/train', 's', ['knn:3']);
  p.set(PLAY, true, 'ui');
  const during = session.stats().frame;
  for (let i = 0; i < 3; i++) await clock.step();
  assert.ok(session.stats().frame > during, 'the show plays on while it trains');
  p.set(PLAY, false, 'ui');
  await trained;
  const card = JSON.parse(readFileSync(join(dir, 'presets', 'mappers', 'three.onnx.card.json'), 'utf8'));
  assert.equal(card.model, 'knn');
  assert.deepEqual(card.inputs, session.learn.info().inputs);
  assert.deepEqual(card.targets, TARGETS);
  assert.equal(session.learn.info().mapping?.validationRmse, card.validationRmse);
  assert.ok(Number.isFinite(card.validationRmse));

  // Each preset's frame, loaded on its own (paused: one held moment, only the values differ).
  const reference: Buffer[] = [];
  for (const s of sets) {
    await send('/netbend/preset/load', 's', [s.name]);
    await session.engine.settled();
    await clock.step();
    reference.push(frame());
  }
  assert.ok(!reference[0]!.equals(reference[1]!) && !reference[1]!.equals(reference[2]!) && !reference[0]!.equals(reference[2]!), 'the three scenes look different');

  await send('/netbend/learn/play', 'i', [1]);
  assert.equal(session.learn.info().playing, 'three');
  // Reset the targets away from every preset: only the mapping can bring them back.
  TARGETS.forEach((a) => p.set(a, 0, 'ui'));
  // Within the card's error per target (a tiny floor for float32 on the way through the net).
  const bound = (j: number) => Math.max(3 * card.validationRmsePerTarget[j], 1e-4);
  const played: Buffer[] = [];
  for (const [k, s] of sets.entries()) {
    const inputs = recorded[k * 5 + 2]!.slice(0, 4);
    await send('/wek/inputs', 'ffff', inputs);
    const near = () => TARGETS.every((a, j) => Math.abs((p.target(a) as number) - s.values[j]!) <= bound(j));
    for (let i = 0; i < 200 && !near(); i++) await clock.step();
    TARGETS.forEach((a, j) => assert.ok(Math.abs((p.target(a) as number) - s.values[j]!) <= bound(j), `${s.name}: ${a} is ${p.target(a)}, recorded ${s.values[j]}`));
    await session.engine.settled();
    await clock.step();
    await clock.step();
    played.push(frame());
    assert.ok(maxDiff(played[k]!, reference[k]!) <= 2, `${s.name}: the frame is the preset's (max diff ${maxDiff(played[k]!, reference[k]!)})`);
  }
  assert.ok(!played[0]!.equals(played[1]!) && !played[1]!.equals(played[2]!), 'the frames follow the inputs');

  // The mapping's outputs also go out as /wek/outputs, three floats, to the OSC target.
  const outs = sentTo(osc, TARGET).filter((m) => m.address === '/wek/outputs');
  assert.ok(outs.length > 0, 'outputs sent');
  assert.equal(outs.at(-1)!.args.length, 3);
  (outs.at(-1)!.args as number[]).forEach((v, j) => assert.ok(Math.abs(v - sets[2]!.values[j]!) <= bound(j) + 1e-6));

  // A scene saved while it plays holds the targets' values, not the mapping's own inputs.
  await send('/netbend/preset/save', 's', ['mapped']);
  const mapped = JSON.parse(readFileSync(join(dir, 'presets', 'mapped.json'), 'utf8'));
  assert.equal(mapped.params[AMP], sets[2]!.values[0]);
  assert.deepEqual(
    Object.keys(mapped.params).filter((a) => a.startsWith('/netbend/ctl/')),
    [],
  );

  // Played again, it swaps: one controller at a time; stopped, its parameters go and the values stay.
  await send('/netbend/learn/play', 'i', [1]);
  const ctl = () => [...new Set(p.list().flatMap((s) => /^\/netbend\/ctl\/([^/]+)\//.exec(s.address)?.[1] ?? []))];
  assert.equal(ctl().length, 1, `one controller's parameters (${ctl()})`);
  await send('/netbend/learn/play', 'i', [0]);
  assert.deepEqual(ctl(), []);
  assert.equal(session.learn.info().playing, null);
  const held = p.target(AMP);
  await send('/wek/inputs', 'ffff', recorded[2]!.slice(0, 4));
  for (let i = 0; i < 5; i++) await clock.step();
  assert.equal(p.target(AMP), held, 'stopped: the inputs drive nothing');
  // And it plays again by name, from its file.
  await send('/netbend/learn/play', 'is', [1, 'three']);
  assert.equal(session.learn.info().playing, 'three');
});

test('hostile: malformed /wek/inputs, record storms, training on nothing, bad names and columns; the show keeps playing', async (t) => {
  const { dir, clock, osc, session, send, notices, notice } = await show(t);
  const p = session.params;
  await clock.step();
  const error = (re: RegExp) =>
    assert.ok(
      notices.some((n) => re.test(n.text)),
      `a notice matching ${re}; got: ${notices.map((n) => n.text).join(' | ')}`,
    );
  const frames = async (n: number) => {
    const before = session.stats().frame;
    for (let i = 0; i < n; i++) await clock.step();
    assert.ok(session.stats().frame >= before + n - 1, 'frames keep coming');
  };

  // Training, saving and playing with nothing there.
  await send('/netbend/learn/train', 's', ['knn']);
  error(/learn\/train: choose inputs and targets/);
  await send('/wek/inputs', 'ff', [0.5, 0.25]);
  await send('/netbend/learn/inputs', 's', ['/netbend/wek/inputs/*']);
  await send('/netbend/learn/targets', 's', ['z/amplitude']);
  await send('/netbend/learn/train', 's', ['knn']);
  error(/no examples to train on/);
  await send('/netbend/learn/save', 's', ['empty']);
  error(/no examples to save/);
  await send('/netbend/learn/play', 'i', [1]);
  error(/no mapping to play/);
  await send('/netbend/learn/play', 'is', [1, 'nowhere']);
  error(/no such mapping/);
  await send('/netbend/learn/record', '', []);
  await send('/netbend/learn/record', '', []);
  await send('/netbend/learn/train', 's', ['linear']);
  error(/2 examples; training needs at least 4/);
  await send('/netbend/learn/train', 's', ['melt']);
  error(/unknown mapping kind "melt"/);
  await send('/netbend/learn/train', 's', ['mlp:0,99999']);
  error(/at most 4 hidden sizes, each a whole number 1-1024/);
  assert.equal(session.learn.info().training, null, 'nothing trains');

  // Names that climb out of their folder, columns that cannot be, indexes that are not there.
  for (const name of ['../x', '.hidden', 'a/b', 'x'.repeat(65)]) {
    await send('/netbend/learn/save', 's', [name]);
    error(/is not a name to save under/);
  }
  await send('/netbend/learn/load', 's', ['missing']);
  error(/missing\.csv: file not found/);
  // Files from anywhere: too big to parse mid-show, not numbers, a card that is not one.
  mkdirSync(join(dir, 'presets', 'datasets'), { recursive: true });
  mkdirSync(join(dir, 'presets', 'mappers'), { recursive: true });
  writeFileSync(join(dir, 'presets', 'datasets', 'huge.csv'), `a,b\n${'1,2\n'.repeat(2_500_000)}`);
  await send('/netbend/learn/load', 's', ['huge']);
  error(/huge\.csv: 9\.5 MB, more than a live set/);
  writeFileSync(join(dir, 'presets', 'datasets', 'bad.csv'), '/netbend/wek/inputs/0,/netbend/source/z/amplitude\n1,NaN\n');
  writeFileSync(join(dir, 'presets', 'datasets', 'bad.json'), JSON.stringify({ netbend: 'examples', version: 1, inputs: ['/netbend/wek/inputs/0'], targets: ['/netbend/source/z/amplitude'] }));
  await send('/netbend/learn/load', 's', ['bad']);
  error(/bad\.csv: line 2, column "\/netbend\/source\/z\/amplitude": "NaN" is not a finite number/);
  writeFileSync(join(dir, 'presets', 'mappers', 'fake.onnx'), 'not a model');
  writeFileSync(join(dir, 'presets', 'mappers', 'fake.onnx.card.json'), '{"netbend": "mapper", "inputs": "all"}');
  await send('/netbend/learn/play', 'is', [1, 'fake']);
  error(/fake\.onnx\.card\.json is not a mapper card/);
  writeFileSync(join(dir, 'presets', 'mappers', 'fake.onnx.card.json'), JSON.stringify({ netbend: 'mapper', inputs: ['/netbend/wek/inputs/0'], targets: ['/netbend/source/z/amplitude'] }));
  await send('/netbend/learn/play', 'is', [1, 'fake']);
  error(/learn\/play: .*fake\.onnx/);
  assert.equal(session.learn.info().playing, null);
  assert.equal(session.learn.info().examples, 2, 'refused loads keep the examples there were');
  await send('/netbend/learn/delete', 'i', [7]);
  error(/no example 7: they are numbered 0 to 1/);
  await send('/netbend/learn/delete', 'f', [0.5]);
  error(/index must be an integer/);
  await send('/netbend/learn/inputs', 's', ['/netbend/knobs/k1']);
  error(/2 examples were recorded with other columns/);
  await send('/netbend/learn/clear', '', []);
  await send('/netbend/learn/targets', 's', ['/netbend/wek/inputs/0']);
  error(/wek\/inputs\/0 cannot be one of the targets: read-only/);
  await send('/netbend/learn/targets', 's', ['/netbend/output/fit']);
  error(/cannot be one of the targets: a enum/);
  await send('/netbend/learn/targets', 's', ['/netbend/nothing/here']);
  error(/no parameter "\/netbend\/nothing\/here"/);
  await send('/netbend/learn/targets', 's', ['/netbend/wek/inputs/1']);
  error(/wek\/inputs\/1 cannot be one of the targets/);
  await send('/netbend/learn/inputs', 's', ['/netbend/zzz/*']);
  error(/matches no parameter/);
  assert.deepEqual(session.learn.info().targets, ['/netbend/source/z/amplitude'], 'refused columns change nothing');

  // Malformed /wek/inputs: refused whole, counted, nothing defined.
  // Refused (or, a 10,000-number datagram on a busy machine, dropped past the turn's time): counted either way.
  const refusedOrDropped = () => session.osc!.stats.rejected + session.osc!.stats.dropped;
  const rejected = refusedOrDropped();
  const refused = p.refused;
  const defined = () => p.list().filter((s) => s.address.startsWith('/netbend/wek/')).length;
  await send('/wek/inputs', 'sf', ['one', 2], true);
  await send(
    '/wek/inputs',
    'f'.repeat(10_000),
    Array.from({ length: 10_000 }, () => 1),
    true,
  );
  await send('/wek/inputs', '', [], true);
  assert.equal(refusedOrDropped() - rejected, 3);
  assert.equal(defined(), 2);
  await send('/wek/inputs', 'ff', [Number.NaN, 0.75]);
  assert.equal(p.refused - refused, 1, 'NaN refused by its parameter');
  assert.deepEqual([p.get('/netbend/wek/inputs/0'), p.get('/netbend/wek/inputs/1')], [0.5, 0.75]);
  error(/refused from osc: \/netbend\/wek\/inputs\/0: expected a finite number/);
  await frames(3);

  // A storm of record toggles while frames run: at most one example a frame, never a stall.
  const steps = 20;
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < 200; k++) {
      const m = new OSC.Message(LEARN_RECORDING);
      [m.types, m.args] = [k % 2 ? 'F' : 'T', [k % 2 === 0]];
      osc.deliver(m.pack());
    }
    await clock.step();
  }
  p.set(LEARN_RECORDING, false, 'ui');
  const afterToggles = p.get(LEARN_EXAMPLES) as number;
  assert.ok(afterToggles <= steps, `${afterToggles} examples from ${steps} frames of toggling`);
  // Held on, one a frame.
  p.set(LEARN_RECORDING, true, 'ui');
  await frames(6);
  p.set(LEARN_RECORDING, false, 'ui');
  const held = (p.get(LEARN_EXAMPLES) as number) - afterToggles;
  assert.ok(held >= 5 && held <= 7, `held for 6 frames: ${held} examples`);
  // A flood of single records (more than one turn's OSC budget): counted, capped by the budget, no stall.
  const before = p.get(LEARN_EXAMPLES) as number;
  for (let k = 0; k < 3000; k++) osc.deliver(new OSC.Message('/netbend/learn/record').pack());
  await frames(3);
  const flood = (p.get(LEARN_EXAMPLES) as number) - before;
  assert.ok(flood > 0 && flood <= 3000, `${flood} of 3000 records taken`);
  assert.equal(session.learn.info().examples, before + flood);

  // Training that is cancelled says so; a second training while one runs is refused.
  const cancelled = notice(/training "mapping" cancelled/);
  await send('/netbend/learn/train', 's', ['mlp:64,64']);
  await send('/netbend/learn/train', 's', ['knn']);
  error(/is training: wait for it/);
  await send('/netbend/learn/cancel', '', []);
  await cancelled;
  await frames(3);

  // A mapping whose input goes away stops, said once; the show plays on.
  await send('/netbend/bend/add', 'sssf', ['tw', 'L1', 'rotate', 10]);
  await send('/netbend/learn/clear', '', []);
  await send('/netbend/learn/inputs', 's', ['/netbend/bend/tw/amount']);
  for (const deg of [0, 30, 60, 90]) {
    p.set('/netbend/bend/tw/amount', deg, 'ui');
    p.set('/netbend/source/z/amplitude', 1 + deg / 90, 'ui');
    await send('/netbend/learn/record', '', []);
  }
  const trained = notice(/mapping "gone" trained/);
  await send('/netbend/learn/train', 'ss', ['linear', 'gone']);
  await trained;
  await send('/netbend/learn/play', 'i', [1]);
  // Recording while it drives the targets is refused.
  await send('/netbend/learn/record', '', []);
  error(/drives the targets: stop it before recording/);
  const stopped = notice(/mapping "gone" stopped: .*no parameter \/netbend\/bend\/tw\/amount/);
  await send('/netbend/bend/tw/remove', '', []);
  for (let i = 0; i < 50 && session.learn.info().playing; i++) await clock.step();
  await stopped;
  assert.equal(session.mapping, undefined);
  await frames(5);
  assert.equal(notices.filter((n) => /mapping "gone" stopped/.test(n.text)).length, 1, 'said once');
});

test('an example set holds its columns while it has examples, and no more than MAX_EXAMPLES', () => {
  const s = new ExampleSet();
  assert.throws(() => s.add([1, 2]), /choose inputs and targets first/);
  s.setColumns(['a', 'b'], ['c']);
  assert.throws(() => s.setColumns(['a'], ['a']), /cannot be an input and a target at once/);
  assert.throws(() => s.setColumns(['a', 'a'], ['c']), /named twice/);
  assert.throws(() => s.add([1, 2]), /2 values for 3 columns/);
  assert.throws(() => s.add([1, Number.NaN, 3]), /b is NaN/);
  for (let i = 0; i < MAX_EXAMPLES; i++) s.add([i, 0, 1]);
  assert.throws(() => s.add([0, 0, 1]), ExampleError);
  assert.throws(() => s.setColumns(['b'], ['c']), /10000 examples were recorded with other columns/);
  s.remove(0);
  assert.deepEqual(s.recent(1), [{ index: MAX_EXAMPLES - 2, values: [MAX_EXAMPLES - 1, 0, 1] }]);
  assert.throws(() => s.remove(MAX_EXAMPLES), /numbered 0 to 9998/);
  s.clear();
  s.setColumns(['b'], ['c']);
  assert.deepEqual(s.columns(), ['b', 'c']);
});

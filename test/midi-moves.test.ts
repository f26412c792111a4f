// MIDI in a live show: the status pages are told (ports, or why none), learn with a time limit and
// its outcome, and each mapping's moves (/netbend/midi/<id>/range, curve, invert, takeover,
// remove) from the page's commands and from OSC, every one an undo step that presets keep. Real
// MIDI bytes, through a loopback port, check what each edit does to the parameter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, until } from './helpers.ts';
import { LoopbackMidi, LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { OSC } from '../app/io/osc-server.ts';
import { MidiRouter, type MidiChangeCause } from '../app/control/midi-mapping.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { parseIncoming } from '../app/server/commands.ts';
import { NO_MIDI_PORTS } from '../app/server/midi-desk.ts';
import { NO_ALSA_SEQ, openMidi } from '../app/io/midi-ports.ts';
import { namespace } from '../app/io/oscquery.ts';
import { signature } from '../app/scene/actions.ts';
import type { MidiInfo, ServerMessage } from '../app/core/protocol.ts';
import type { OpenMidi } from '../app/server/show-ports.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const AMP = '/netbend/source/z/amplitude'; // 0..3
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

async function show(t: { after(fn: () => unknown): void }, midi: OpenMidi | undefined, learnSeconds = 10) {
  const dir = tempDir(t);
  const osc = new LoopbackOsc();
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', midiLearnSeconds: learnSeconds },
    { clock: new SteppedClock(10), osc, midi, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const states: MidiInfo[] = [];
  const notices: string[] = [];
  session.on('state', () => states.push((session.state() as Extract<ServerMessage, { type: 'state' }>).midi));
  session.on('notice', (n) => notices.push(n.text));
  const info = () => (session.hello() as Extract<ServerMessage, { type: 'hello' }>).midi;
  const oscIn = (address: string, types: string, args: Array<string | number>) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [types, args];
    osc.deliver(m.pack());
  };
  return { session, dir, states, notices, info, oscIn };
}

test('the router announces each change once, with the list before it; update() edits and validates', () => {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/a', type: 'float', default: 0, min: 0, max: 10 });
  const router = new MidiRouter(params);
  const changes: Array<[MidiChangeCause, number]> = [];
  router.on('change', (c) => changes.push([c.cause, c.before.length]));
  const m = router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7 });
  router.update(m.id, { min: 2, max: 4, curve: 'exp', invert: true, takeover: 'jump' });
  assert.deepEqual(router.get(m.id), { id: 'midi1', param: '/netbend/a', kind: 'cc', channel: 0, number: 7, min: 2, max: 4, curve: 'exp', invert: true, takeover: 'jump' });
  router.handle([0xb0, 7, 0]); // inverted: the bottom of the travel is the top of the range
  assert.equal(params.get('/netbend/a'), 4);
  router.update(m.id, { min: undefined, max: undefined, invert: undefined });
  assert.deepEqual(router.get(m.id), { id: 'midi1', param: '/netbend/a', kind: 'cc', channel: 0, number: 7, curve: 'exp', takeover: 'jump' });
  assert.throws(() => router.update(m.id, { curve: 'cubic' as 'lin' }), /curve must be one of lin, exp, log \(got "cubic"\)/);
  assert.throws(() => router.update('nope', { invert: true }), /no MIDI mapping "nope"/);
  // A learn replaces the parameter's old mapping and adds the new one: one change.
  router.learn('/netbend/a');
  router.handle([0xb0, 9, 10]);
  assert.equal(router.remove('midi1'), true);
  assert.equal(router.remove('midi1'), false, 'nothing to remove: no change');
  router.fromJSON([]);
  assert.deepEqual(changes, [
    ['add', 0],
    ['update', 1],
    ['update', 1],
    ['learn', 1],
    ['remove', 1],
    ['load', 0],
  ]);
  assert.throws(() => router.add({ id: 'a b', param: '/netbend/a', kind: 'cc', channel: 0, number: 1 }), /id must be one address segment/);
  assert.throws(() => router.fromJSON([{ id: 'x/remove', param: '/netbend/a', kind: 'cc', channel: 0, number: 1 }]), /midi mapping 0: id must be one address segment/);
});

test('status: the ports a show opened, or no MIDI and why; learn is refused at once where nothing can be heard', async (t) => {
  const loop = new LoopbackMidi();
  const a = await show(t, loop.open);
  assert.deepEqual({ ...a.info(), learn: undefined, mappings: undefined }, { available: true, reason: null, inputs: ['loopback'], output: 'loopback', learn: undefined, mappings: undefined });
  const none = await show(t, undefined);
  assert.equal(none.info().available, false);
  assert.equal(none.info().reason, NO_MIDI_PORTS);
  await assert.rejects(none.session.command({ cmd: 'midiLearn', address: AMP }), /MIDI learn: no MIDI input to listen to: MIDI is off for this show/);
  assert.equal(none.session.midi.learning, undefined, 'not armed');
  // The system's own ports: on a machine without a sequencer that is the reason pages are given.
  const system = await show(t, (receive) => openMidi(receive));
  const s = system.info();
  if (!s.available) {
    assert.equal(s.reason, NO_ALSA_SEQ);
    await assert.rejects(system.session.command({ cmd: 'midiLearn', address: AMP }), (err: Error) => err.message === `MIDI learn: no MIDI input to listen to: ${NO_ALSA_SEQ}`);
  } else assert.equal(s.reason, null);
});

test('learn: waits, times out with a notice, cancels, and learns from real bytes as one undo step', async (t) => {
  const loop = new LoopbackMidi();
  const { session, states, notices, info } = await show(t, loop.open, 0.3);
  await session.command({ cmd: 'midiLearn', address: AMP });
  const w = info().learn;
  assert.equal(w.state, 'waiting');
  assert.ok(w.state === 'waiting' && w.param === AMP && w.seconds === 0.3 && w.left > 0 && w.left <= 0.3, JSON.stringify(w));
  assert.equal((session.state() as Extract<ServerMessage, { type: 'state' }>).learning, AMP, 'the learn buttons see it too');
  await until(() => states.some((s) => s.learn.state === 'timeout'), 'the learn to time out', 5000);
  assert.deepEqual(info().learn, { state: 'timeout', n: 1, param: AMP, seconds: 0.3 });
  assert.equal(session.midi.learning, undefined, 'disarmed');
  assert.ok(notices.includes(`MIDI learn for ${AMP}: no control moved in 0.3 s; cancelled`), notices.join(' | '));
  loop.play([0xb0, 21, 64]);
  assert.deepEqual(session.midi.list(), [], 'a control moved after the timeout maps nothing');

  await session.command({ cmd: 'midiLearn', address: AMP });
  await session.command({ cmd: 'midiLearn', address: null });
  assert.deepEqual(info().learn, { state: 'cancelled', n: 2, param: AMP });

  await session.command({ cmd: 'midiLearn', address: AMP });
  loop.play([0xb0, 21, 64]);
  const learned = info().learn;
  assert.equal(learned.state, 'learned');
  const mapping = { id: 'midi1', param: AMP, kind: 'cc', channel: 0, number: 21, takeover: 'pickup' };
  assert.deepEqual(learned.state === 'learned' && learned.mapping, mapping);
  assert.deepEqual(info().mappings, [mapping]);
  assert.equal(session.params.target(AMP), 1, 'the learning move itself sets nothing');
  assert.ok(session.scene.actions.has('/netbend/midi/midi1/remove'), 'the new mapping has its moves');
  // The learn is an undo step: undo takes the mapping (and its moves) away, redo brings it back.
  await session.command({ cmd: 'undo' });
  assert.deepEqual(session.midi.list(), []);
  assert.equal(session.scene.actions.has('/netbend/midi/midi1/remove'), false);
  await session.command({ cmd: 'redo' });
  assert.deepEqual(session.midi.list(), [mapping]);
});

test("a mapping's moves from the page and from OSC: each an undo step, driven by real bytes, listed in OSCQuery, kept in presets", async (t) => {
  const loop = new LoopbackMidi();
  const { session, dir, oscIn, info } = await show(t, loop.open);
  session.midi.fromJSON([{ id: 'fader', param: AMP, kind: 'cc', channel: 0, number: 7 }]);
  const value = () => session.params.number(AMP);
  const cc = (v: number) => loop.play([0xb0, 7, v]);

  // OSCQuery lists every move of the mapping with its signature.
  const moves = session.scene.actions.list().map((a) => ({ address: a.address, types: signature(a.args), description: a.description }));
  const tree = namespace(session.params, '/netbend/midi/fader', moves) as { CONTENTS: Record<string, { TYPE: string }> };
  assert.deepEqual(Object.fromEntries(Object.entries(tree.CONTENTS).map(([k, v]) => [k, v.TYPE])), { remove: 'I', range: 'ff', curve: 's', invert: 'i', takeover: 's' });

  // From the page: range, invert, curve, takeover, one command each, each one move.
  assert.deepEqual(await session.command({ cmd: 'midiEdit', mapping: 'fader', range: [0.5, 1.5] }), { id: 'fader', param: AMP, kind: 'cc', channel: 0, number: 7, min: 0.5, max: 1.5 });
  cc(127);
  near(value(), 1.5, 'top of the travel: top of the new range');
  await session.command({ cmd: 'midiEdit', mapping: 'fader', invert: true });
  cc(127);
  near(value(), 0.5, 'inverted');
  await session.command({ cmd: 'midiEdit', mapping: 'fader', curve: 'exp' });
  cc(64);
  near(value(), 0.5 + (1 - 64 / 127) ** 2, 'exp curve, inverted, in range');
  await session.command({ cmd: 'midiEdit', mapping: 'fader', takeover: 'pickup' });
  session.params.set(AMP, 1.5, 'ui'); // moved elsewhere: the fader must meet it first (1.5 is at travel 0)
  cc(100);
  near(value(), 1.5, 'pickup: far from the value, nothing moves');
  cc(0);
  near(value(), 1.5, 'meets it at the bottom (inverted top)');
  cc(10);
  near(value(), 0.5 + (1 - 10 / 127) ** 2, 'then follows');
  assert.deepEqual(info().mappings, [{ id: 'fader', param: AMP, kind: 'cc', channel: 0, number: 7, min: 0.5, max: 1.5, curve: 'exp', invert: true, takeover: 'pickup' }]);

  // From OSC, the same moves at their addresses; a bad argument is refused and changes nothing.
  oscIn('/netbend/midi/fader/curve', 's', ['log']);
  oscIn('/netbend/midi/fader/takeover', 's', ['jump']);
  oscIn('/netbend/midi/fader/invert', 'i', [0]);
  oscIn('/netbend/midi/fader/range', 'ff', [0, 2]);
  oscIn('/netbend/midi/fader/curve', 's', ['cubic']);
  await session.scene.actions.queue.run(async () => {});
  assert.deepEqual(session.midi.get('fader'), { id: 'fader', param: AMP, kind: 'cc', channel: 0, number: 7, min: 0, max: 2, curve: 'log', invert: false, takeover: 'jump' });
  cc(32);
  near(value(), 2 * Math.sqrt(32 / 127), 'log curve over 0..2');

  // Presets keep the edited mapping.
  await session.command({ cmd: 'savePreset', name: 'mapped' });
  const saved = JSON.parse(readFileSync(join(dir, 'presets', 'mapped.json'), 'utf8')) as { mappings: { midi: unknown[] } };
  assert.deepEqual(saved.mappings.midi, [session.midi.get('fader')]);

  // Remove (from the page): the fader no longer drives it, and its moves are gone; undo brings both back.
  const before = session.midi.get('fader');
  assert.equal(await session.command({ cmd: 'midiRemove', mapping: 'fader' }), null);
  assert.deepEqual(session.midi.list(), []);
  assert.equal(session.scene.actions.has('/netbend/midi/fader/range'), false);
  assert.equal(session.params.has('/netbend/midi/fader/remove'), false, 'the remove button went with it');
  const held = value();
  cc(127);
  assert.equal(value(), held, 'removed: the fader drives nothing');
  await session.command({ cmd: 'undo' });
  assert.deepEqual(session.midi.get('fader'), before);
  cc(127);
  near(value(), 2, 'back, with its edits');
  // Each edit was its own step: past the fader's two moves (127 now, 32 before the preset), undo
  // walks back through the OSC edits one at a time.
  await session.command({ cmd: 'undo' });
  await session.command({ cmd: 'undo' });
  assert.deepEqual(session.midi.get('fader'), before, 'undoing the values leaves the mapping');
  const page = { id: 'fader', param: AMP, kind: 'cc', channel: 0, number: 7, min: 0.5, max: 1.5, curve: 'exp', invert: true, takeover: 'pickup' };
  for (const step of [{ min: 0.5, max: 1.5, curve: 'log', invert: false, takeover: 'jump' }, { invert: true }, { takeover: 'pickup' }, { curve: 'exp' }]) {
    const want = { ...session.midi.get('fader'), ...step };
    await session.command({ cmd: 'undo' });
    assert.deepEqual(session.midi.get('fader'), want);
  }
  assert.deepEqual(session.midi.get('fader'), page, 'back to the edits made from the page');
  // The remove trigger is a button too: an OSC press removes the mapping.
  oscIn('/netbend/midi/fader/remove', '', []);
  await session.scene.actions.queue.run(async () => {});
  assert.deepEqual(session.midi.list(), []);

  // Unknown mappings and empty edits are refused with a sentence.
  await assert.rejects(session.command({ cmd: 'midiEdit', mapping: 'ghost', invert: true }), /no MIDI mapping "ghost"/);
  await assert.rejects(session.command({ cmd: 'midiRemove', mapping: 'ghost' }), /no MIDI mapping "ghost"/);
  await session.command({ cmd: 'undo' });
  await assert.rejects(session.command({ cmd: 'midiEdit', mapping: 'fader' }), /nothing to change/);
});

test('the WebSocket edge checks MIDI commands field by field', () => {
  const bad = (text: string) => {
    const m = parseIncoming(text);
    assert.equal(m.kind, 'bad-command', text);
    return m.kind === 'bad-command' ? m.error : '';
  };
  const edit = (fields: Record<string, unknown>) => JSON.stringify({ id: 1, cmd: 'midiEdit', mapping: 'x', ...fields });
  assert.equal(bad(edit({ curve: 'cubic' })), 'bad command: curve: expected one of "lin", "exp", "log"');
  assert.match(bad(edit({ range: [0] })), /^bad command: range/);
  assert.equal(bad(edit({ range: [0, '1'] })), 'bad command: range[1]: expected a number');
  assert.equal(bad(edit({ invert: 1 })), 'bad command: invert: expected a boolean');
  assert.equal(bad(edit({ takeover: 'soft' })), 'bad command: takeover: expected one of "jump", "pickup"');
  assert.equal(bad(edit({ min: 0 })), 'bad command: unknown field min');
  assert.equal(bad('{"id":1,"cmd":"midiRemove"}'), 'bad command: mapping: expected a string');
  assert.deepEqual(parseIncoming(edit({ range: [0, 1], invert: true })), { kind: 'command', id: 1, command: { cmd: 'midiEdit', mapping: 'x', range: [0, 1], invert: true } });
});

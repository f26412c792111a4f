// The MIDI edge: without an ALSA sequencer it says so once and keeps working; with one, a virtual
// port round trip. easymidi's messages come back as the bytes the router reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ParameterRegistry } from '../app/core/registry.ts';
import { MidiRouter } from '../app/control/midi-mapping.ts';
import { NO_ALSA_SEQ, explainMidiError, fromBytes, listMidiPorts, openMidi, toBytes } from '../app/io/midi-ports.ts';

const HAS_SEQ = process.platform !== 'linux' || existsSync('/dev/snd/seq');

test('without an ALSA sequencer: one clear message, no throw, no ports, still usable', { skip: HAS_SEQ && 'this machine has a MIDI sequencer' }, () => {
  const reports: string[] = [];
  const ports = openMidi(() => {}, { virtualName: 'netbend', inputs: ['Some Controller'], output: 'Some Synth', report: (m) => reports.push(m) });
  assert.equal(ports.available, false);
  assert.equal(ports.reason, NO_ALSA_SEQ);
  assert.equal(ports.reason, 'MIDI unavailable: no ALSA sequencer (/dev/snd/seq); MIDI mappings still load and OSC works');
  assert.deepEqual([ports.inputs, ports.outputs, ports.opened.virtual], [[], [], undefined]);
  ports.send([0xb0, 1, 2]); // no output: a no-op, not a throw
  ports.close();
  const again = openMidi(() => {}, { virtualName: 'netbend', report: (m) => reports.push(m) });
  assert.equal(again.available, false);
  assert.deepEqual(reports, [NO_ALSA_SEQ], 'reported once');
  const list = listMidiPorts();
  assert.deepEqual(list, { available: false, reason: NO_ALSA_SEQ, inputs: [], outputs: [] });
  // openMidi checks for the device before RtMidi can print ALSA's noise; where RtMidi itself is
  // reached, its real error ("Failed to initialise RtMidi") turns into the same message.
  const easymidi = createRequire(import.meta.url)('easymidi') as typeof import('easymidi');
  const rtmidi = (() => {
    try {
      easymidi.getInputs();
    } catch (err) {
      return err;
    }
  })();
  assert.match((rtmidi as Error).message, /RtMidi/);
  assert.equal(explainMidiError(rtmidi), NO_ALSA_SEQ);
  // Mappings still load and work from bytes.
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/k', type: 'float', default: 0, min: 0, max: 1 });
  const router = new MidiRouter(params);
  router.fromJSON([{ param: '/netbend/k', kind: 'cc', channel: 0, number: 1 }]);
  router.handle([0xb0, 1, 127]);
  assert.equal(params.get('/netbend/k'), 1);
});

test('with a sequencer: a virtual input named netbend receives what another client sends', { skip: !HAS_SEQ && 'no /dev/snd/seq here' }, async () => {
  const name = `netbend-test-${process.pid}`;
  const got: number[][] = [];
  const ports = openMidi((b) => got.push(b), { virtualName: name });
  assert.equal(ports.available, true, ports.reason);
  assert.equal(ports.opened.virtual, name);
  const easymidi = createRequire(import.meta.url)('easymidi') as typeof import('easymidi');
  const target = easymidi.getOutputs().find((o) => o.includes(name));
  assert.ok(target, `virtual port visible: ${easymidi.getOutputs().join(', ')}`);
  const out = new easymidi.Output(target);
  try {
    out.send('cc', { controller: 7, value: 99, channel: 3 });
    out.send('clock' as 'cc', {} as never);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [[0xb3, 7, 99], [0xf8]]);
  } finally {
    out.close();
    ports.close();
  }
});

test("easymidi's messages become the router's bytes, and feedback bytes become easymidi's", () => {
  const cases: Array<[string, Record<string, number>, number[]]> = [
    ['noteon', { channel: 2, note: 60, velocity: 100 }, [0x92, 60, 100]],
    ['noteoff', { channel: 0, note: 60, velocity: 0 }, [0x80, 60, 0]],
    ['cc', { channel: 15, controller: 74, value: 127 }, [0xbf, 74, 127]],
    ['program', { channel: 1, number: 5 }, [0xc1, 5]],
    ['pitch', { channel: 0, value: 8192 }, [0xe0, 0x00, 0x40]],
  ];
  for (const [type, msg, bytes] of cases) {
    assert.deepEqual(toBytes(type, msg), bytes, type);
    assert.deepEqual(fromBytes(bytes), [type, msg], type);
  }
  assert.deepEqual(
    ['clock', 'start', 'continue', 'stop'].map((t) => toBytes(t, {})),
    [[0xf8], [0xfa], [0xfb], [0xfc]],
  );
  assert.equal(toBytes('sysex', { bytes: 1 }), undefined);
  assert.equal(fromBytes([0xf8]), undefined);

  // Through the router: clock, start, stop reach the callbacks; a CC sets its parameter.
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/k', type: 'float', default: 0, min: 0, max: 1 });
  const clock: string[] = [];
  const router = new MidiRouter(params, { onClock: (k) => clock.push(k) });
  router.add({ param: '/netbend/k', kind: 'cc', channel: 15, number: 74 });
  for (const [type, msg] of [
    ['start', {}],
    ['clock', {}],
    ['cc', { channel: 15, controller: 74, value: 127 }],
    ['stop', {}],
  ] as const)
    router.handle(toBytes(type, msg)!);
  assert.deepEqual(clock, ['start', 'tick', 'stop']);
  assert.equal(params.get('/netbend/k'), 1);
});

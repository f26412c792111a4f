// Each parameter type's behaviour in one place: coerce, interpolate, format, OSC, MIDI travel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coerce, kindOf, PARAM_KINDS, ParamRefused, type ParamSpec } from '../app/core/param-types.ts';

const spec = (s: Partial<ParamSpec> & Pick<ParamSpec, 'type'>): ParamSpec => ({ address: `/netbend/t/${s.type}`, default: 0, ...s });

test('numbers: clamp to a hard range, refuse beyond a soft one, ints round, glide in a morph', () => {
  const f = spec({ type: 'float', min: 0, max: 1 });
  const soft = spec({ type: 'float', min: 0, max: 1, clamp: false, limit: [-5, 5] });
  const i = spec({ type: 'int', min: 0, max: 10 });
  assert.equal(coerce(f, 2), 1);
  assert.equal(coerce(f, '0.25'), 0.25);
  assert.equal(coerce(soft, 4), 4);
  assert.throws(() => coerce(soft, 6), ParamRefused);
  assert.throws(() => coerce(f, NaN), /expected a finite number \(got NaN\)/);
  assert.equal(coerce(i, 3.6), 4);
  assert.equal(kindOf(f).interpolate(0, 1, 0.25), 0.25);
  assert.equal(kindOf(f).interpolate(0, 1, 1), 1);
  assert.equal(kindOf(f).format(f, -0.0001), '0.000');
  assert.equal(kindOf(i).format(i, 7), '7');
  assert.deepEqual(kindOf(i).toOsc(7.4), { types: 'i', args: [7] });
  assert.deepEqual(kindOf(f).toOsc(0.5), { types: 'f', args: [0.5] });
  assert.deepEqual(kindOf(i).midiRange(i), [0, 10]);
  assert.equal(kindOf(i).fromNumber(i, 6.6), 7);
});

test('bools, triggers, enums and strings switch at the end of a morph and travel as their own OSC types', () => {
  const b = spec({ type: 'bool', default: false });
  const e = spec({ type: 'enum', default: 'a', options: ['a', 'b', 'c'] });
  const s = spec({ type: 'string', default: '' });
  const t = spec({ type: 'trigger', default: false });
  assert.equal(coerce(b, 0.7), true);
  assert.equal(coerce(b, 'false'), false);
  assert.throws(() => coerce(b, 'maybe'), ParamRefused);
  assert.equal(coerce(e, 2), 'c');
  assert.throws(() => coerce(e, 'z'), /expected one of a, b, c/);
  assert.throws(() => coerce(s, 3), /expected a string/);
  for (const [p, a, z] of [
    [b, false, true],
    [e, 'a', 'c'],
    [s, 'x', 'y'],
  ] as const) {
    assert.equal(kindOf(p).continuous, false);
    assert.equal(kindOf(p).interpolate(a, z, 0.99), a);
    assert.equal(kindOf(p).interpolate(a, z, 1), z);
  }
  assert.deepEqual(kindOf(b).toOsc(true), { types: 'T', args: [true] });
  assert.deepEqual(kindOf(t).toOsc(true), { types: 'I', args: [Infinity] });
  assert.equal(kindOf(e).toNumber(e, 'b'), 1);
  assert.equal(coerce(e, kindOf(e).fromNumber(e, 1.7)), 'c');
  assert.equal(kindOf(s).midiRange(s), undefined, 'strings are not MIDI-mappable');
  assert.deepEqual(Object.keys(PARAM_KINDS).sort(), ['bool', 'enum', 'float', 'int', 'string', 'trigger']);
});

// LFOs, tempo, the expression language and the modulation bank, from their definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lfoValue, parseLfo } from '../app/control/lfo.ts';
import { Tempo } from '../app/control/tempo.ts';
import { compileExpression } from '../app/control/expression.ts';
import { ModulationBank } from '../app/control/modulation.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { PresetMorph } from '../app/control/morph.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

test('LFO shapes at known phases', () => {
  const at = (spec: string, t: number) => lfoValue(parseLfo(spec), t);
  close(at('sine:1hz', 0.25), 1);
  close(at('sine:1hz:depth=0.5:center=2', 0.75), 1.5);
  close(at('triangle:2hz', 0.125), 1);
  close(at('triangle:2hz', 0.375), -1);
  close(at('saw:1hz', 0.5), 0);
  assert.equal(at('square:1hz', 0.2), 1);
  assert.equal(at('square:1hz', 0.7), -1);
  close(at('sine:1hz:phase=0.25', 0), 1);
  // Sample and hold: constant within a cycle, new each cycle, the same for the same seed.
  assert.equal(at('sh:1hz:seed=4', 0.1), at('sh:1hz:seed=4', 0.9));
  assert.notEqual(at('sh:1hz:seed=4', 0.1), at('sh:1hz:seed=4', 1.1));
  // Smooth random: continuous, within [-1, 1].
  for (let t = 0; t < 5; t += 0.05) {
    const v = at('random:1hz', t);
    assert.ok(v >= -1.0001 && v <= 1.0001);
    assert.ok(Math.abs(at('random:1hz', t + 0.001) - v) < 0.05);
  }
  assert.throws(() => parseLfo('wobble:1hz'), /unknown shape "wobble"/);
  assert.throws(() => parseLfo('sine:fast'), /cannot read "fast"/);
});

test('beat-synced LFOs follow the tempo; tap tempo and MIDI clock set it', () => {
  const tempo = new Tempo(120);
  const spec = parseLfo('saw:4beats');
  close(lfoValue(spec, 1, tempo), 0); // 2 beats of 4 at 120 bpm: halfway
  tempo.bpm = 60;
  close(lfoValue(spec, 1, tempo), -0.5); // 1 beat of 4
  const tap = new Tempo();
  for (const t of [10, 10.5, 11, 11.5]) tap.tap(t);
  close(tap.bpm, 120);
  tap.tap(20); // a long pause starts a new count
  tap.tap(20.25);
  close(tap.bpm, 240);
  const clock = new Tempo();
  for (let i = 0; i <= 24; i++) clock.clockTick(i * (0.4 / 24));
  close(clock.bpm, 150, 1e-6);
});

test('expressions: precedence, functions, names; no way out to JavaScript', () => {
  const names: Record<string, number> = { knob1: 0.25, '/netbend/knobs/k2': 2 };
  const ev = (src: string) => compileExpression(src, (n) => (Object.hasOwn(names, n) ? () => names[n]! : undefined))({ t: 2, beat: 4, frame: 10 });
  close(ev('1 + 2 * 3'), 7);
  close(ev('2 ^ 3 ^ 2'), 512);
  close(ev('-2 ^ 2'), -4);
  close(ev('0.3*sin(t*0.5) + knob1'), 0.3 * Math.sin(1) + 0.25);
  close(ev('/netbend/knobs/k2 * beat / 2'), 4);
  close(ev('t > 1 ? clamp(frame, 0, 3) : 0'), 3);
  close(ev('mix(0, 10, 0.25) + smoothstep(0, 1, 0.5)'), 3);
  for (const [src, msg] of [
    ['(1 + 2', /expected "\)"/],
    ['foo(1)', /unknown function foo/],
    ['knob9', /unknown name knob9/],
    ['constructor', /unknown name constructor/],
    ['constructor(1)', /unknown function constructor/],
    // A dotted name is a parameter path (audio.low), never a property: it resolves or it is unknown.
    ['this.x', /unknown name this\.x/],
    ['constructor.prototype', /unknown name constructor\.prototype/],
    ['knob1 .x', /unexpected "\."/],
    ['process', /unknown name process/],
    ['sin(1, 2)', /sin takes 1 arguments/],
  ] as const)
    assert.throws(() => ev(src), msg, src);
});

test('the modulation bank writes into a real registry each frame', () => {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/source/z/speed', type: 'float', default: 0, min: -5, max: 5 });
  params.define({ address: '/netbend/knobs/k1', type: 'float', default: 0.5, min: 0, max: 1 });
  const changes: string[] = [];
  params.on('change', (c) => c.source === 'modulator' && changes.push(c.address));
  const bank = new ModulationBank(params, new Tempo());
  const lfo = bank.add({ target: 'z/speed', kind: 'lfo', source: 'sine:1hz:depth=2' });
  bank.apply(0.25, 7);
  close(params.number('/netbend/source/z/speed'), 2);
  bank.remove(lfo);
  bank.add({ target: '/netbend/source/z/speed', kind: 'expr', source: 'k1 * 4 + frame / 10' });
  bank.apply(0, 10);
  close(params.number('/netbend/source/z/speed'), 3);
  assert.deepEqual(
    bank.list().map((m) => [m.kind, m.target]),
    [['expr', '/netbend/source/z/speed']],
  );
  assert.ok(changes.length >= 2);
  assert.throws(() => bank.add({ target: 'nowhere', kind: 'lfo', source: 'sine' }), /no parameter "nowhere"/);
  assert.throws(() => bank.add({ target: 'z/speed', kind: 'expr', source: 'k1 +' }), /unexpected/);
  params.remove('/netbend/source/z/speed');
  assert.deepEqual(bank.apply(1, 11), ['modulator m2 switched off: /netbend/source/z/speed no longer exists']);
  assert.deepEqual(bank.apply(2, 12), [], 'said once');
});

test('a morph glides numbers with smoothstep and lands exactly', () => {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/a', type: 'float', default: 0, min: 0, max: 10 });
  params.define({ address: '/netbend/on', type: 'bool', default: false });
  const m = new PresetMorph(params, { '/netbend/a': 10, '/netbend/on': true }, 2);
  assert.equal(m.step(100), false);
  m.step(101);
  close(params.number('/netbend/a'), 5);
  assert.equal(params.get('/netbend/on'), false, 'switches wait for the end');
  assert.equal(m.step(102), true);
  assert.equal(params.get('/netbend/a'), 10);
  assert.equal(params.get('/netbend/on'), true);
});

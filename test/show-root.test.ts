// The show's shared state stays consistent: smoothing ticks once per frame with a controller net
// beside the model, the MIDI clock's tempo is the tempo parameter, a model switch leaves no
// listener of the old model on the registry, and model files are decoded off the main thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FIXTURES, fixture, ROOT, tempDir } from './helpers.ts';
import { makeMlp } from './models/make-test-models.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { ControllerNet } from '../app/control/controller-net.ts';
import { Engine } from '../app/engine/engine.ts';
import { BPM, LiveSession } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';

const DEFAULT_MODEL = join(ROOT, 'models', 'default.onnx');
const OTHER_MODEL = fixture('stylegan2-64-tiny.onnx');

test('a glide advances once per frame when a controller net runs beside the model', async (t) => {
  const dir = tempDir(t);
  const mlp = join(dir, 'mlp.onnx');
  makeMlp(mlp);
  const params = new ParameterRegistry();
  for (let k = 1; k <= 4; k++) params.define({ address: `/netbend/knobs/k${k}`, type: 'float', default: 0, min: 0, max: 1 });
  params.define({ address: '/netbend/glide', type: 'float', default: 0, min: 0, max: 1, smoothing: 1 });
  const { engine } = await Engine.open({ model: DEFAULT_MODEL, ep: 'cpu', registry: params });
  const ctl = await ControllerNet.open(mlp, params, 'mlp');
  t.after(async () => {
    await ctl.close();
    await engine.close();
  });
  params.set('/netbend/glide', 1, 'ui');
  const dt = 0.1;
  await engine.render({ index: 0, time: 0, dt });
  assert.equal(await ctl.step(), true, 'the controller ran');
  // One one-pole step of dt toward 1 from 0, not two.
  assert.ok(Math.abs((params.get('/netbend/glide') as number) - (1 - Math.exp(-dt / 1))) < 1e-9, `got ${params.get('/netbend/glide')}`);
});

test('the MIDI clock sets the tempo parameter, not only the tempo', async (t) => {
  const { session } = await LiveSession.open({ model: DEFAULT_MODEL }, systemPorts({ midi: false, presetsDir: tempDir(t) }));
  t.after(() => session.close());
  const seen: number[] = [];
  session.params.on('change', (c) => c.address === BPM && seen.push(Number(c.value)));
  session.midi.handle([0xfa]);
  for (let i = 0; i < 25; i++) session.midi.handle([0xf8]);
  assert.notEqual(session.tempo.bpm, 120, 'a beat of clock pulses set a tempo');
  assert.equal(session.params.target(BPM), session.tempo.bpm);
  assert.ok(seen.length >= 1);
});

test("a model switch releases the old model's listeners on the registry", async (t) => {
  const { session } = await LiveSession.open({ model: DEFAULT_MODEL, modelDirs: [FIXTURES] }, systemPorts({ midi: false, presetsDir: tempDir(t) }));
  t.after(() => session.close());
  const count = () => session.params.listenerCount('change');
  const before = count();
  for (const m of [OTHER_MODEL, DEFAULT_MODEL, OTHER_MODEL]) await session.command({ cmd: 'loadModel', file: m });
  assert.equal(count(), before, 'as many change listeners as before three switches');
});

test('opening a 16 MB model, blending it and tapping it never hold the event loop 50 ms', async (t) => {
  const big = fixture('stylegan2-256-slim.onnx');
  const delay = monitorEventLoopDelay({ resolution: 2 });
  delay.enable();
  const { engine } = await Engine.open({ model: big, ep: 'cpu' });
  t.after(() => engine.close());
  await engine.loadPartner(big);
  engine.setTaps([engine.tree.all().find((l) => l.output)!.path]);
  await engine.settled();
  delay.disable();
  assert.equal(engine.tapped().length, 1);
  // Decoding this file on the main thread alone held it about 60 ms here.
  assert.ok(delay.max / 1e6 < 50, `worst event-loop delay ${(delay.max / 1e6).toFixed(1)} ms`);
});

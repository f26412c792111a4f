// Regression nets as controllers: 4 knobs -> tanh MLP -> 16 edit amounts, outputs out over OSC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { join } from 'node:path';
import oscModule from 'osc-js';
import { ROOT, tempDir } from './helpers.ts';
import { makeMlp } from './models/make-test-models.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { ControllerNet } from '../app/control/controller-net.ts';
import { OscServer } from '../app/io/osc-server.ts';
import { UdpTransport } from '../app/io/osc-transport.ts';
import { Engine } from '../app/engine/engine.ts';

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;

test('4 knobs drive an MLP whose 16 outputs become edit amounts and go out over OSC', async (t) => {
  const dir = tempDir(t);
  const mlpFile = join(dir, 'mlp.onnx');
  makeMlp(mlpFile);
  const params = new ParameterRegistry();
  for (let k = 1; k <= 4; k++) params.define({ address: `/netbend/knobs/k${k}`, type: 'float', default: 0, min: 0, max: 1 });
  const { engine } = await Engine.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu', registry: params });
  const layers = ['L0_64_48', 'L1_64_32', 'L2_128_16', 'L3_256_8'];
  const edits = Array.from({ length: 16 }, (_, i) => engine.addEdit(layers[i % 4]!, 'scale', 1));
  const ctl = await ControllerNet.open(mlpFile, params, 'mlp');
  const listener = dgram.createSocket('udp4');
  await new Promise<void>((r) => listener.bind(0, '127.0.0.1', () => r()));
  const received = new Set<string>();
  listener.on('message', (b) => {
    const p = new OSC.Packet();
    p.unpack(new DataView(b.buffer, b.byteOffset, b.byteLength));
    const walk = (v: any): void => {
      if (v.bundleElements) v.bundleElements.forEach(walk);
      else received.add(v.address);
    };
    walk(p.value);
  });
  const osc = new OscServer(params, { transport: new UdpTransport(0), targets: [{ host: '127.0.0.1', port: listener.address().port }] });
  await osc.start();
  try {
    assert.equal(ctl.inputs().length, 8);
    assert.equal(ctl.outputs().length, 32);
    for (let k = 0; k < 4; k++) ctl.bind(k, `knobs/k${k + 1}`);
    edits.forEach((id, i) => ctl.route(i, `/netbend/edit/${id}/amount`));
    const amounts = () => edits.map((id) => params.number(`/netbend/edit/${id}/amount`));
    params.set('/netbend/knobs/k1', 0.9, 'midi');
    params.set('/netbend/knobs/k3', 0.2, 'midi');
    assert.equal(await ctl.step(), true);
    const first = amounts();
    assert.equal(params.number('/netbend/ctl/mlp/source/params/p0'), 0.9, 'knob bound to input p0');
    // Each amount is the routed output mapped from tanh's [-1,1] onto the edit's own range.
    edits.forEach((id, i) => {
      const spec = params.spec(`/netbend/edit/${id}/amount`)!;
      const out = params.number(`/netbend/ctl/mlp/outputs/values/${i}`);
      assert.ok(Math.abs(first[i]! - (spec.min! + ((out + 1) / 2) * (spec.max! - spec.min!))) < 1e-9);
    });
    assert.ok(new Set(first.map((v) => v.toFixed(6))).size > 8, 'outputs differ from one another');
    params.set('/netbend/knobs/k2', 1, 'midi');
    await ctl.step();
    assert.notDeepEqual(amounts(), first, 'moving a knob moves the amounts');
    osc.flush();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(received.has('/netbend/ctl/mlp/outputs/values/0'), 'outputs go out over OSC');
    assert.ok(received.has(`/netbend/edit/${edits[0]}/amount`), 'routed amounts go out too');
  } finally {
    osc.close();
    listener.close();
    await ctl.close();
    await engine.close();
  }
});

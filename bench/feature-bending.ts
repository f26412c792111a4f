// Issue 12's bench: three feature-map ops on three layers of stylegan2-256-slim, every value
// animated every frame (an angle, a blur sigma, an ablated share), against the same bare loop.
import type ort from '../app/engine/inference/ort.ts';
import { Engine } from '../app/engine/engine.ts';
import { sideBySide } from './util.ts';

export const FEATURE_WORKLOAD = 'rotate after b32 (angle animated), blur after b64.conv0 (sigma animated), ablate after b128.conv0 on share:0.5 (amount animated)';

export async function featureBendFps(file: string, frames: number, bare: ort.InferenceSession, z: ort.Tensor): Promise<{ bareFps: number; fps: number; ratio: number }> {
  const { engine } = await Engine.open({ model: file, ep: 'cpu' });
  try {
    const ops = [engine.addBend('b32', 'rotate', { amount: 10 }), engine.addBend('b64.conv0', 'blur', { amount: 1 }), engine.addBend('b128.conv0', 'ablate', { amount: 0.5, channels: 'share:0.5' })];
    await engine.settled();
    let index = 0;
    const frame = async () => {
      const time = index / 30;
      engine.params.set(`/netbend/bend/${ops[0]}/amount`, 30 * Math.sin(time), 'modulator');
      engine.params.set(`/netbend/bend/${ops[1]}/amount`, 1.5 + Math.sin(time * 2), 'modulator');
      engine.params.set(`/netbend/bend/${ops[2]}/amount`, 0.5 + 0.4 * Math.sin(time * 3), 'modulator');
      await engine.render({ index: index++, time, dt: 1 / 30 });
    };
    await frame();
    const loop = (run: () => Promise<unknown>) => async () => {
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) await run();
      return (frames * 1000) / (performance.now() - t0);
    };
    const r = await sideBySide(
      5,
      loop(() => bare.run({ z })),
      loop(frame),
    );
    return { bareFps: r.a, fps: r.b, ratio: r.ratio };
  } finally {
    await engine.close();
  }
}

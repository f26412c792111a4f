// Issue 4's bench: OSC message to frame latency through a real UDP socket. A client sends a value;
// the latency ends when the first frame whose render started after the value arrived is out.
import dgram from 'node:dgram';
import { join } from 'node:path';
import oscModule from 'osc-js';
import { LiveSession } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { ROOT, writeResult } from './util.ts';

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;
const FPS = 30;
/** Enough that the p99 is a percentile (with 60 it was the single worst sample). */
const SAMPLES = 300;

export async function benchControl(): Promise<void> {
  const { session } = await LiveSession.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu' }, systemPorts({ fps: FPS, oscPort: 0, midi: false, presetsDir: join(ROOT, 'presets') }));
  const udp = dgram.createSocket('udp4');
  const port = session.osc!.port;
  const starts = new Map<number, number>();
  const inner = session.loop.beforeFrame;
  session.loop.beforeFrame = (t) => {
    starts.set(t.index, performance.now());
    inner(t);
  };
  const latencies: number[] = [];
  const infer: number[] = [];
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < SAMPLES; i++) {
    const value = 0.1 + (i % 10) / 10;
    let arrived = 0;
    const offChange = session.params.on('change', (c) => {
      if (c.source === 'osc' && c.address === '/netbend/source/z/speed') arrived = performance.now();
    });
    const sent = performance.now();
    const done = new Promise<void>((ok) => {
      const off = session.loop.on('frame', (f) => {
        const start = starts.get(f.index) ?? 0;
        if (arrived && start >= arrived) {
          latencies.push(performance.now() - sent);
          infer.push(f.stats.inferMs);
          off();
          ok();
        }
      });
    });
    udp.send(new OSC.Message('/netbend/source/z/speed', value).pack(), port, '127.0.0.1');
    await done;
    offChange();
    // Spread the sends over the frame interval so they land at every phase of it.
    await new Promise((r) => setTimeout(r, 1000 / FPS + ((i * 7) % 29)));
  }
  udp.close();
  await session.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const inferMedian = [...infer].sort((a, b) => a - b)[Math.floor(infer.length / 2)]!;
  const budget = 1000 / FPS + inferMedian;
  console.log(`OSC -> frame latency at ${FPS} fps: median ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms (budget: one frame interval + inference = ${budget.toFixed(1)} ms)`);
  writeResult('control', {
    model: 'models/default.onnx',
    ep: 'cpu',
    fps: FPS,
    samples: SAMPLES,
    goal: 'latency <= one frame interval + inference time',
    latencyMs: { median: q(0.5), p99: q(0.99), max: sorted.at(-1) },
    inferenceMsMedian: inferMedian,
    budgetMs: budget,
    ratioMedianLatencyOverBudget: q(0.5) / budget,
    ratioP99LatencyOverBudget: q(0.99) / budget,
  });
}

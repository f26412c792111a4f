// Issue 5's bench: frames delivered to a real Chromium page (the /output page, drawing with regl)
// against the engine's own frame rate, at 256x256 (the bundled model) and 1024x1024 (a cheap
// generator made here, so the stream, not inference, is what is measured).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { attr, GraphBuilder, SeededRandom } from '../app/engine/onnx/graph-builder.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { startServer } from '../app/server/http-server.ts';
import { ROOT, writeResult } from './util.ts';

const SECONDS = 6;
const TARGET_FPS = 60;

/** z [1,512] -> 3x16x16 -> linear resize to size x size -> tanh: cheap to run, big to stream. */
function bigModel(size: number): Uint8Array {
  const g = new GraphBuilder({ opset: 17 });
  const r = new SeededRandom(1);
  g.input('z', [1, 512]);
  g.initializer('w', r.normal(512 * 768, 0.05), [512, 768]);
  const h = g.op('MatMul', ['z', 'w']);
  const shape = g.constant(new BigInt64Array([1n, 3n, 16n, 16n]), [4]);
  const img = g.op('Reshape', [h, shape]);
  const sizes = g.constant(new BigInt64Array([1n, 3n, BigInt(size), BigInt(size)]), [4]);
  const up = g.op('Resize', [img, '', '', sizes], { mode: attr.string('linear') });
  g.op('Tanh', [up], {}, { out: 'img' });
  g.output('img', [1, 3, size, size]);
  return g.toBytes();
}

export async function benchStream(): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) throw new Error('the stream bench needs /usr/bin/chromium (apt install chromium)');
  const dir = mkdtempSync(join(tmpdir(), 'netbend-stream-'));
  const big = join(dir, 'big-1024.onnx');
  writeFileSync(big, bigModel(1024));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results: Record<string, unknown> = {};
  try {
    for (const [name, model] of [
      ['256x256', join(ROOT, 'models', 'default.onnx')],
      ['1024x1024', big],
    ] as const) {
      const { session } = await LiveSession.open({ model, ep: 'cpu' }, systemPorts({ fps: TARGET_FPS, midi: false, presetsDir: dir }));
      const server = await startServer({ session, port: 0 });
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(server.url.replace(/\/$/, '/output'));
      await page.waitForFunction(() => (globalThis as any).netbend?.latest.output, null, { timeout: 30_000 });
      await page.waitForTimeout(1000);
      let engineFrames = 0;
      const off = session.loop.on('frame', () => engineFrames++);
      const v0 = await page.evaluate(() => (globalThis as any).netbend.latest.version as number);
      await page.waitForTimeout(SECONDS * 1000);
      const v1 = await page.evaluate(() => (globalThis as any).netbend.latest.version as number);
      off();
      const pageFps = (v1 - v0) / SECONDS;
      const engineFps = engineFrames / SECONDS;
      results[name] = { engineFps, pageFps, ratioPageOverEngine: pageFps / engineFps };
      console.log(`${name}: engine ${engineFps.toFixed(1)} fps, page ${pageFps.toFixed(1)} fps, ratio ${(pageFps / engineFps).toFixed(3)}`);
      await page.close();
      await server.close();
      await session.close();
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  writeResult('stream', {
    transport: 'WebSocket, binary RGBA8 packets, one ack per drawn frame (latest wins)',
    page: '/output in headless Chromium (SwiftShader WebGL)',
    targetFps: TARGET_FPS,
    goal: 'ratio >= 0.95',
    sizes: results,
  });
}

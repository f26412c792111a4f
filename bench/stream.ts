// Issues 5 and 16's bench: frames drawn by a real Chromium page (the /output page) against the
// engine's own frame rate at a 30 fps target, at 256x256 (the bundled model) and 1024x1024 (a
// cheap generator made here, so the stream, not inference, is what is measured). The page is
// driven over bare CDP (bare-chromium.ts), not Playwright, whose WebSocket instrumentation costs
// more than the stream itself.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attr, GraphBuilder, SeededRandom } from '../app/engine/onnx/graph-builder.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { startServer } from '../app/server/http-server.ts';
import { ROOT, writeResult } from './util.ts';
import { type BarePage, openBarePage } from './bare-chromium.ts';

const SECONDS = 6;
/** Issue 16: full frames to the page at a 30 fps target. */
const TARGET_FPS = 30;

/** CPU seconds (user + system) of a process and all its descendants; 0 where there is no /proc. */
function treeCpu(root: number): number {
  const stat = (pid: number) => {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
    } catch {
      return undefined;
    }
  };
  if (!existsSync('/proc')) return 0;
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) for (const s of [stat(Number(d))]) if (s) procs.set(Number(d), s);
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of procs) if (tree.has(s.ppid) && !tree.has(pid)) tree.add(pid), (grew = true);
  }
  return [...tree].reduce((t, pid) => t + (procs.get(pid)?.cpu ?? 0), 0);
}

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
  const results: Record<string, unknown> = {};
  try {
    // The last case is a performer's usual desk: /output full screen and the control page beside
    // it, its preview asking for pictures only as large as it draws them.
    for (const [name, model, control] of [
      ['256x256', join(ROOT, 'models', 'default.onnx'), false],
      ['1024x1024', big, false],
      ['1024x1024 with the control page open', big, true],
    ] as const) {
      const { session } = await LiveSession.open({ model, ep: 'cpu' }, systemPorts({ fps: TARGET_FPS, midi: false, presetsDir: dir }));
      const server = await startServer({ session, port: 0 });
      const pages: BarePage[] = [];
      try {
        pages.push(await openBarePage(server.url.replace(/\/$/, '/output'), 1280, 720));
        if (control) pages.push(await openBarePage(server.url, 1440, 900));
        for (const page of pages) await page.waitFor('globalThis.netbend?.drawn.pictures > 0', 30_000);
        await new Promise((r) => setTimeout(r, 1500));
        const read = (page: BarePage) => page.evaluate<[number, number]>('[globalThis.netbend.latest.version, globalThis.netbend.drawn.pictures]');
        let engineFrames = 0;
        const off = session.loop.on('frame', () => engineFrames++);
        const before = await Promise.all(pages.map(async (p) => [...(await read(p)), treeCpu(p.pid)]));
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        const after = await Promise.all(pages.map(async (p) => [...(await read(p)), treeCpu(p.pid)]));
        const seconds = (performance.now() - t0) / 1000;
        off();
        const engineFps = engineFrames / seconds;
        const seen = await Promise.all(
          pages.map(async (page, i) => {
            const [r0, d0, c0] = before[i]!;
            const [r1, d1, c1] = after[i]!;
            const pageFps = (d1! - d0!) / seconds;
            const [canvas, picture] = await page.evaluate<[number[], number[]]>(
              "[[document.querySelector('#output').width, document.querySelector('#output').height], [globalThis.netbend.latest.output.width, globalThis.netbend.latest.output.height]]",
            );
            const pageCpuMsPerFrame = d1! > d0! ? ((c1! - c0!) * 1000) / (d1! - d0!) : undefined;
            return { receivedFps: (r1! - r0!) / seconds, pageFps, ratioPageOverEngine: pageFps / engineFps, pageCpuMsPerFrame, canvas, picture };
          }),
        );
        const [output, controlPage] = seen;
        results[name] = { engineFps, ...output, ...(controlPage ? { controlPage } : {}) };
        for (const [i, r] of seen.entries())
          console.log(
            `${name}${control ? (i ? ', control page' : ', /output') : ''}: engine ${engineFps.toFixed(1)} fps, page drew ${r.pageFps.toFixed(1)} fps (received ${r.receivedFps.toFixed(1)}, ${r.picture.join('x')}), ratio ${r.ratioPageOverEngine.toFixed(3)}, page CPU ${r.pageCpuMsPerFrame?.toFixed(1)} ms/frame`,
          );
      } finally {
        for (const page of pages) await page.close();
        await server.close();
        await session.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeResult('stream', {
    transport: 'WebSocket, binary RGBA8 packets, one ack per drawn frame (latest wins)',
    page: '/output (1280x720) in headless Chromium (software rendering), driven over bare CDP; pageFps counts pictures drawn; the control page (1440x900) in a Chromium of its own',
    targetFps: TARGET_FPS,
    goal: 'ratio >= 0.95',
    sizes: results,
  });
}

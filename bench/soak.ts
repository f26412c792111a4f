// `npm run soak [-- --minutes N --model file.onnx]`: a real `netbend serve` under everything a show
// throws at it for N minutes (default 10): random OSC at 200 Hz to every parameter (in range, out of
// range, wrong types, junk datagrams), a preset loaded every 20 s, a partner every minute, a page
// that never reads and a page that sends garbage. It samples the server's RSS, fps and event-loop
// delay, counts crashes (a crashed server is started again), and writes bench/results/soak.json
// (soak-short.json for runs under 10 minutes: those are checks of the soak, not results).
// Goals: 0 crashes, RSS growth under 5 %, event-loop delay p99 under 20 ms.
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { OSC } from '../app/io/osc-server.ts';
import type { EngineStats, ServerMessage } from '../app/core/protocol.ts';
import { startServe } from '../test/helpers.ts';
import { ROOT, writeResult } from './util.ts';

const { values: args } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, model: { type: 'string' } } });
const minutes = Number(args.minutes);
if (!(minutes > 0)) throw new Error(`--minutes ${args.minutes}: expected a positive number`);
const model = args.model ?? join(ROOT, 'models', 'default.onnx');
/** A StyleGAN fixture has a `-b` partner beside it; any model is its own partner. */
const partner = (() => {
  const b = model.replace(/\.onnx$/, '-b.onnx');
  return existsSync(b) ? b : model;
})();

const OSC_HZ = 200;
const PRESET_EVERY_MS = 20_000;
const PARTNER_EVERY_MS = 60_000;
const RSS_EVERY_MS = 2000;
/** Loop delay is measured from here: start-up (JIT, first frames, caches) is not the show. */
const WARMUP_MS = Math.min(60_000, Math.max(10_000, minutes * 60_000 * 0.1));
/**
 * RSS growth is measured once the show has been in every state the soak puts it in: after the
 * first partner load and unload (a partner's session pair is working set, not growth). What a
 * leak looks like is what grows after that. RSS from WARMUP_MS is reported beside it.
 */
const RSS_FROM_MS = Math.min(2 * PARTNER_EVERY_MS + 10_000, minutes * 60_000 * 0.4);
/**
 * Parameters that would stop the measurement itself (pause, fps target), write to disk, or lock
 * the show against the soak's own preset loads. The random OSC goes to values (OSCQuery ACCESS 3):
 * moves and triggers (undo, edit removal, model loads) are the soak's scheduled loads' business.
 */
const SPARED = ['/netbend/transport/', '/netbend/record/', '/netbend/lock'];

interface Node {
  FULL_PATH: string;
  TYPE?: string;
  ACCESS?: number;
  RANGE?: Array<{ MIN?: number; MAX?: number; VALS?: string[] }>;
  CONTENTS?: Record<string, Node>;
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(Math.random() * 256));

/** A value for a parameter: mostly in range, some beyond it, some of the wrong kind. */
function randomValue(n: Node): { types: string; args: unknown[] } {
  const r = Math.random();
  if (r < 0.05) return { types: 's', args: ['junk' + Math.random()] };
  if (r < 0.08) return { types: 'f', args: [pick([NaN, Infinity, -Infinity, 1e30, -1e30])] };
  const range = n.RANGE?.[0] ?? {};
  switch (n.TYPE) {
    case 'T':
      return Math.random() < 0.5 ? { types: 'T', args: [true] } : { types: 'F', args: [false] };
    case 'I':
      return { types: '', args: [] };
    case 's':
      return { types: 's', args: [range.VALS?.length && Math.random() < 0.8 ? pick(range.VALS) : 'no-such-option'] };
    default: {
      const lo = range.MIN ?? -1;
      const hi = range.MAX ?? 1;
      const span = hi - lo || 1;
      // 20 % of the time beyond the range on either side.
      const v = Math.random() < 0.8 ? lo + Math.random() * span : Math.random() < 0.5 ? lo - Math.random() * span : hi + Math.random() * span;
      return n.TYPE === 'i' ? { types: 'i', args: [Math.round(v)] } : { types: 'f', args: [v] };
    }
  }
}

function pack(address: string, v: { types: string; args: unknown[] }): Uint8Array {
  const m = new OSC.Message(address);
  [m.types, m.args] = [v.types, v.args as never];
  return m.pack();
}

const presetsDir = mkdtempSync(join(tmpdir(), 'netbend-soak-'));
const recordDir = join(presetsDir, 'recordings');
const udp = dgram.createSocket('udp4');
let crashes = 0;
let stopping = false;
const fpsSamples: Array<{ t: number; fps: number }> = [];
const loopWindows: Array<{ t: number; p99: number; max: number }> = [];
const rssSamples: Array<{ t: number; rss: number }> = [];
/** When presets and partners were loaded, to tell their stalls from the rest. */
const events: Array<{ t: number; what: 'preset' | 'partner' }> = [];
const counts = { osc: 0, junk: 0, presetLoads: 0, presetErrors: 0, partnerLoads: 0, partnerErrors: 0, garbage: 0, slowPageClosed: 0 };
const t0 = Date.now();

type Serve = Awaited<ReturnType<typeof startServe>>;
interface Show {
  serve: Serve;
  oscPort: number;
  nodes: Node[];
  call: (cmd: Record<string, unknown>) => Promise<Extract<ServerMessage, { type: 'reply' }>>;
  pages: WebSocket[];
}

/** Starts the server and its pages: one that reads (stats, commands), one that never reads, one that sends garbage. */
async function open(): Promise<Show> {
  const serve = await startServe(model, ['--presets', presetsDir, '--record-dir', recordDir]);
  const base = serve.url.replace(/\/$/, '');
  const wsUrl = serve.url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1');
  const oscPort = ((await (await fetch(`${base}/?HOST_INFO`)).json()) as { OSC_PORT: number }).OSC_PORT;
  const show: Show = { serve, oscPort, nodes: [], call: undefined as never, pages: [] };
  await refreshNamespace(show);

  const reader = new WebSocket(wsUrl);
  let id = 0;
  const waiting = new Map<number, (m: Extract<ServerMessage, { type: 'reply' }>) => void>();
  reader.on('message', (d, binary) => {
    if (binary) return void reader.send(JSON.stringify({ ack: 0 }));
    const m = JSON.parse(String(d)) as ServerMessage;
    if (m.type === 'stats') record(m.stats);
    else if (m.type === 'reply') waiting.get(m.id)?.(m), waiting.delete(m.id);
    else if (m.type === 'hello') void refreshNamespace(show).catch(() => {});
  });
  show.call = (cmd) =>
    new Promise((ok, fail) => {
      const n = ++id;
      const timer = setTimeout(() => (waiting.delete(n), fail(new Error(`${String(cmd.cmd)}: no reply in 60 s`))), 60_000);
      waiting.set(n, (m) => (clearTimeout(timer), ok(m)));
      reader.send(JSON.stringify({ ...cmd, id: n }));
    });
  show.pages.push(reader, neverReading(wsUrl, show), garbage(wsUrl));
  await Promise.all(show.pages.map((p) => new Promise((ok, fail) => (p.readyState === p.OPEN ? ok(0) : p.once('open', ok).once('error', fail)))));
  return show;
}

async function refreshNamespace(show: Show): Promise<void> {
  const tree = (await (await fetch(`${show.serve.url.replace(/\/$/, '')}/netbend`)).json()) as Node;
  const nodes: Node[] = [];
  const walk = (n: Node) => {
    if (n.TYPE && n.ACCESS === 3 && !SPARED.some((p) => n.FULL_PATH.startsWith(p))) nodes.push(n);
    for (const c of Object.values(n.CONTENTS ?? {})) walk(c);
  };
  walk(tree);
  show.nodes = nodes;
}

/** A page that stops reading at once; when the server closes it, another takes its place. */
function neverReading(url: string, show: Show): WebSocket {
  const ws = new WebSocket(url);
  ws.once('open', () => (ws as unknown as { _socket: Socket })._socket.pause());
  ws.on('error', () => {});
  ws.once('close', () => {
    if (stopping || show.serve.child.exitCode !== null) return;
    counts.slowPageClosed++;
    const i = show.pages.indexOf(ws);
    if (i >= 0) show.pages[i] = neverReading(url, show);
  });
  return ws;
}

/** A page that sends random bytes and bad JSON, and reads (and ignores) what comes back. */
function garbage(url: string): WebSocket {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  const bad = () =>
    pick([
      () => randomBytes(1 + Math.floor(Math.random() * 512)),
      () => '{"cmd": "set", "address": ',
      () => '[1,2',
      () => JSON.stringify({ cmd: 'nope', id: 1 }),
      () => JSON.stringify({ cmd: 'set', address: 5, value: {}, id: 2 }),
      () => 'null',
      () => '"' + 'x'.repeat(1000),
    ])();
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    const m = bad();
    ws.send(m, { binary: typeof m !== 'string' });
    counts.garbage++;
  }, 50);
  ws.once('close', () => clearInterval(timer));
  return ws;
}

function record(s: EngineStats): void {
  const t = Date.now() - t0;
  fpsSamples.push({ t, fps: s.fps });
  loopWindows.push({ t, p99: s.loopDelay.p99, max: s.loopDelay.max });
}

let show = await open();
console.log(`soak: ${minutes} min on ${basename(model)} (partner ${basename(partner)}), server pid ${show.serve.child.pid}`);
const watch = (s: Show) =>
  s.serve.child.once('exit', async (code, signal) => {
    if (stopping) return;
    crashes++;
    console.log(`soak: the server exited (${code ?? signal}); starting it again`);
    s.pages.forEach((p) => p.terminate());
    show = await open();
    watch(show);
  });
watch(show);

for (const name of ['soak-a', 'soak-b']) {
  const r = await show.call({ cmd: 'savePreset', name });
  if (!r.ok) throw new Error(`savePreset ${name}: ${r.error}`);
}

const oscStart = Date.now();
const timers = [
  setInterval(() => {
    const s = show;
    if (!s.nodes.length) return;
    // Timers run late on a busy machine: catch up to the rate, a bounded burst at a time.
    const due = Math.floor(((Date.now() - oscStart) * OSC_HZ) / 1000);
    for (let k = 0; k < 50 && counts.osc < due; k++) {
      // One datagram in ten is junk: random bytes, or a real address with a broken body.
      const bytes =
        Math.random() < 0.1
          ? (counts.junk++, Math.random() < 0.5 ? randomBytes(1 + Math.floor(Math.random() * 200)) : new TextEncoder().encode(pick(s.nodes).FULL_PATH + '\0,f\0\0\xff'))
          : pack(pick(s.nodes).FULL_PATH, randomValue(pick(s.nodes)));
      counts.osc++;
      udp.send(bytes, s.oscPort, '127.0.0.1');
    }
  }, 1000 / OSC_HZ),
  setInterval(() => {
    const n = counts.presetLoads++;
    events.push({ t: Date.now() - t0, what: 'preset' });
    show.call({ cmd: 'loadPreset', name: n % 2 ? 'soak-b' : 'soak-a' }).then(
      (r) => void (r.ok || counts.presetErrors++),
      () => counts.presetErrors++,
    );
  }, PRESET_EVERY_MS),
  setInterval(() => {
    const n = counts.partnerLoads++;
    events.push({ t: Date.now() - t0, what: 'partner' });
    show.call({ cmd: 'loadPartner', path: n % 2 ? null : partner }).then(
      (r) => void (r.ok || counts.partnerErrors++),
      () => counts.partnerErrors++,
    );
  }, PARTNER_EVERY_MS),
  setInterval(() => {
    const pid = show.serve.child.pid;
    if (pid && show.serve.child.exitCode === null) rssSamples.push({ t: Date.now() - t0, rss: rssOf(pid) });
  }, RSS_EVERY_MS),
  setInterval(() => {
    const last = fpsSamples.at(-1);
    const rss = rssSamples.at(-1);
    console.log(
      `soak: ${((Date.now() - t0) / 60_000).toFixed(1)} min, fps ${last?.fps.toFixed(1) ?? '-'}, RSS ${rss ? (rss.rss / 2 ** 20).toFixed(0) : '-'} MB, loop p99 ${loopWindows.at(-1)?.p99 ?? '-'} ms, OSC ${counts.osc}, crashes ${crashes}`,
    );
  }, 30_000),
];

await new Promise((r) => setTimeout(r, minutes * 60_000));
stopping = true;
timers.forEach(clearInterval);
show.pages.forEach((p) => p.terminate());
await show.serve.stop();
udp.close();
rmSync(presetsDir, { recursive: true, force: true });

const rssFrom = (from: number) => {
  const xs = rssSamples.filter((s) => s.t >= from);
  return { start: xs[0]?.rss ?? 0, max: Math.max(...xs.map((s) => s.rss)), end: xs.at(-1)?.rss ?? 0 };
};
const growth = (r: { start: number; end: number }) => (r.start ? Math.round(((r.end - r.start) / r.start) * 10_000) / 10_000 : 0);
const rss = rssFrom(RSS_FROM_MS);
const rssFromWarmup = rssFrom(WARMUP_MS);
const fpsPerMinute = Array.from({ length: Math.ceil(minutes) }, (_, m) => {
  const xs = fpsSamples.filter((s) => s.t >= m * 60_000 && s.t < (m + 1) * 60_000).map((s) => s.fps);
  return xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : 0;
});
// Start-up (model load, first saves, JIT) is not the show: its windows are left out, as for RSS.
const showWindows = loopWindows.filter((w) => w.t >= WARMUP_MS);
const sorted = showWindows.map((w) => w.p99).sort((a, b) => a - b);
const loopDelay = {
  p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
  max: Math.max(0, ...showWindows.map((w) => w.max)),
  /** A typical window, beside the worst ones. */
  median: sorted[Math.floor(sorted.length / 2)] ?? 0,
  /** The five worst windows, with the preset or partner load that began up to 3 s before, if any. */
  worst: [...showWindows]
    .sort((a, b) => b.max - a.max)
    .slice(0, 5)
    .map((w) => ({ atSeconds: Math.round(w.t / 100) / 10, max: w.max, after: events.filter((e) => e.t <= w.t && w.t - e.t < 3000).at(-1)?.what ?? null })),
};
const result = {
  model: basename(model),
  minutes,
  crashes,
  rss,
  rssGrowth: growth(rss),
  rssFromWarmup: { ...rssFromWarmup, growth: growth(rssFromWarmup) },
  fpsPerMinute,
  loopDelay,
  counts,
  notes: `RSS growth from ${RSS_FROM_MS / 1000} s on (after the first partner load and unload; rssFromWarmup: from ${WARMUP_MS / 1000} s), loop delay from ${WARMUP_MS / 1000} s on; loopDelay.p99 is the 99th percentile of the per-window (500 ms) p99s, max the worst window; the event-loop delay excludes the 10 ms sampling interval.`,
  goals: { crashes: crashes === 0, rssGrowthUnder5Percent: rss.start > 0 && (rss.end - rss.start) / rss.start < 0.05, loopDelayP99Under20ms: loopDelay.p99 < 20 },
};
console.log(JSON.stringify(result, null, 2));
writeResult(minutes >= 10 ? 'soak' : 'soak-short', result);
process.exit(0);

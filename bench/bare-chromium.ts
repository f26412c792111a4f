// A Chromium for benches that drives its page over bare CDP, Runtime.evaluate and nothing else.
// Playwright enables the Network domain on every page, and with it Chromium copies each WebSocket
// message, base64-encoded, to the driver: for a 4 MB frame that is some 60 ms of CPU per frame in
// the browser process, the renderer and the driver, which no performer's browser spends. Measured
// on 1024x1024 frames: a page that only receives and acks costs ~77 ms of CPU per frame under
// Playwright and ~9 ms here.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export interface BarePage {
  pid: number;
  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; throws after `timeoutMs`. */
  waitFor(expression: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium showing `url` in a window of `width` x `height`. */
export async function openBarePage(url: string, width = 1280, height = 720, executable = '/usr/bin/chromium'): Promise<BarePage> {
  const dir = mkdtempSync(join(tmpdir(), 'netbend-chromium-'));
  const proc: ChildProcess = spawn(executable, [...ARGS, '--remote-debugging-port=0', `--user-data-dir=${dir}`, `--window-size=${width},${height}`, url], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: closing ends its helper processes too, before the profile goes.
    detached: true,
  });
  const exited = new Promise((r) => proc.once('exit', r));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const gone = async () => {
    signal('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]))) signal('SIGKILL');
    // Its helpers leave with the group; give them a moment to let go of the profile.
    await new Promise((r) => setTimeout(r, 200));
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {}
  };
  try {
    const browserUrl = await new Promise<string>((ok, fail) => {
      let text = '';
      const timer = setTimeout(() => fail(new Error(`chromium did not start: ${text.slice(-500)}`)), 30_000);
      proc.stderr!.on('data', (d: Buffer) => {
        text += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (m) clearTimeout(timer), ok(m[1]!);
      });
      proc.once('exit', (code) => fail(new Error(`chromium exited (${code}): ${text.slice(-500)}`)));
    });
    const port = new URL(browserUrl).port;
    let target: { type: string; webSocketDebuggerUrl: string } | undefined;
    for (const end = Date.now() + 30_000; !target; ) {
      if (Date.now() > end) throw new Error('chromium opened no page');
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
      target = list.find((t) => t.type === 'page');
      if (!target) await new Promise((r) => setTimeout(r, 100));
    }
    const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
    let id = 0;
    type Reply = { result?: { result?: { value?: unknown }; exceptionDetails?: unknown }; error?: unknown };
    const waiting = new Map<number, (m: Reply) => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Reply & { id?: number };
      if (m.id !== undefined) waiting.get(m.id)?.(m), waiting.delete(m.id);
    });
    const evaluate = async <T>(expression: string): Promise<T> => {
      const i = ++id;
      const reply = await new Promise<Reply>((ok) => {
        waiting.set(i, ok);
        ws.send(JSON.stringify({ id: i, method: 'Runtime.evaluate', params: { expression, returnByValue: true, awaitPromise: true } }));
      });
      if (reply.error || reply.result?.exceptionDetails) throw new Error(`evaluate ${expression}: ${JSON.stringify(reply.error ?? reply.result?.exceptionDetails)}`);
      return reply.result?.result?.value as T;
    };
    const waitFor = async (expression: string, timeoutMs: number) => {
      for (const end = Date.now() + timeoutMs; !(await evaluate(expression).catch(() => false)); ) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    return {
      pid: proc.pid!,
      evaluate,
      waitFor,
      close: async () => {
        ws.close();
        await gone();
      },
    };
  } catch (err) {
    await gone();
    throw err;
  }
}

// Plumbing for the UI tests: Chromium, reading canvases back, OSC and OSCQuery against the real
// server, and driving the page's value bars the way a hand does.
import dgram from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import oscModule from 'osc-js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, startServe } from './helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const noChromium = !existsSync(CHROMIUM) && 'no /usr/bin/chromium (apt-get install -y chromium)';

/** A headless Chromium; `extra` adds switches (a fake audio input, say). */
export function launch(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
  });
}

/** Where screenshots go (git-ignored): the path of one, its folder made on first use. */
export function artifact(name: string): string {
  const dir = join(ROOT, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** One Chromium for all the tests of a file: launched before them (where there is one), closed after. */
export function suiteBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    if (!noChromium) browser = await launch();
  });
  after(async () => browser?.close());
  return () => browser!;
}

/** A page on `url` (1280x800, the size the UI is laid out for); its uncaught errors are collected in `errors`. */
export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

export interface ServedPage {
  /** The `netbend serve` (its URL, process, stop). */
  s: Awaited<ReturnType<typeof startServe>>;
  /** Its URL without the trailing slash, for OSCQuery paths. */
  base: string;
  browser: Browser;
  page: Page;
  errors: string[];
}

/**
 * The setup of most UI tests: a real `netbend serve` of `model` with `args` and a Chromium (started
 * side by side: the model loads while the browser comes up; or `o.browser`, one the file shares), and
 * a page open on the show. After the test, whichever way it ends, the browser is closed (a shared one:
 * the page) and the show stopped.
 */
export async function servePage(
  t: Pick<TestContext, 'after'>,
  model: string,
  args: string[] = [],
  o: { viewport?: { width: number; height: number }; chromiumArgs?: string[]; browser?: Browser } = {},
): Promise<ServedPage> {
  const [serve, launched] = await Promise.allSettled([startServe(model, args), o.browser ?? launch(o.chromiumArgs)]);
  const s = serve.status === 'fulfilled' ? serve.value : undefined;
  const browser = launched.status === 'fulfilled' ? launched.value : undefined;
  let opened: Page | undefined;
  t.after(async () => {
    // A browser of the caller's (one for the whole file) stays; the page goes.
    await (o.browser ? opened?.close() : browser?.close());
    await s?.stop();
  });
  if (serve.status === 'rejected') throw serve.reason;
  if (launched.status === 'rejected') throw launched.reason;
  const { page, errors } = await openPage(browser!, s!.url, o.viewport);
  opened = page;
  return { s: s!, base: s!.url.replace(/\/(\?.*)?$/, ''), browser: browser!, page, errors };
}

export interface CanvasStats {
  /** Order-sensitive checksum of the RGB values. */
  sum: number;
  /** Brightest minus darkest (over R, G and B). */
  spread: number;
  /** Mean brightness 0..255. */
  mean: number;
  /** Largest |R-G| + |G-B| of any pixel: 0 for a grey picture. */
  chroma: number;
  width: number;
  height: number;
}

/** What a canvas shows now (the views keep their drawing buffer, so it can be read back). */
export function canvasStats(page: Page, selector: string): Promise<CanvasStats> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    // A WebGL view (taps) reads back bottom row first; the output view's 2D canvas is read in that order too.
    const gl = c.getContext('webgl');
    let px = new Uint8Array(c.width * c.height * 4);
    if (gl) gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
    else {
      const rows = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const row = c.width * 4;
      px = new Uint8Array(rows.length);
      for (let y = 0; y < c.height; y++) px.set(rows.subarray((c.height - 1 - y) * row, (c.height - y) * row), y * row);
    }
    let sum = 0;
    let lo = 255;
    let hi = 0;
    let total = 0;
    let chroma = 0;
    for (let i = 0; i < px.length; i += 4) {
      const r = px[i]!;
      const g = px[i + 1]!;
      const b = px[i + 2]!;
      sum = (sum * 31 + r * 3 + g * 5 + b * 7) % 1_000_000_007;
      lo = Math.min(lo, r, g, b);
      hi = Math.max(hi, r, g, b);
      total += r + g + b;
      chroma = Math.max(chroma, Math.abs(r - g) + Math.abs(g - b));
    }
    return { sum, spread: hi - lo, mean: total / (3 * (px.length / 4)), chroma, width: c.width, height: c.height };
  }, selector);
}

/** Reads the canvas until `ok(stats)` (or the time is up) and returns the last stats seen: for a view that redraws on its next frame. */
export const untilCanvas = (page: Page, selector: string, ok: (s: CanvasStats) => boolean, timeout = 5000): Promise<CanvasStats> => poll(() => canvasStats(page, selector), ok, timeout);

/** Reads until `ok(value)` (or the time is up, every 40 ms) and returns the last value read; the caller asserts on it. */
async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeout: number): Promise<T> {
  const end = Date.now() + timeout;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 40));
    v = await read();
  }
  return v;
}

/** Mean brightness of a vertical strip of the canvas (x as a fraction of the width). */
export function columnMean(page: Page, selector: string, x: number): Promise<number> {
  return page.evaluate(
    ([sel, fx]) => {
      const c = document.querySelector(sel as string) as HTMLCanvasElement;
      const gl = c.getContext('webgl');
      const col = Math.min(c.width - 1, Math.floor((fx as number) * c.width));
      let px = new Uint8Array(c.height * 4);
      if (gl) gl.readPixels(col, 0, 1, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
      else px = new Uint8Array(c.getContext('2d')!.getImageData(col, 0, 1, c.height).data);
      let t = 0;
      for (let i = 0; i < px.length; i += 4) t += px[i]! + px[i + 1]! + px[i + 2]!;
      return t / (3 * c.height);
    },
    [selector, x] as const,
  );
}

/** The frame index the page's output view last drew. */
export const drawnFrame = (page: Page) => page.evaluate(() => (globalThis as any).netbend.drawn.output as number);

/** Waits until the output view has drawn `n` more frames than now. */
export async function framesLater(page: Page, n = 2, timeout = 20_000): Promise<void> {
  const from = await drawnFrame(page);
  await page.waitForFunction(([f, k]) => (globalThis as any).netbend.drawn.output >= f + k, [from, n] as const, { timeout });
}

/** The engine's value of a parameter, through OSCQuery (a plain GET: no text/html Accept). */
export async function oscValue(base: string, address: string): Promise<unknown> {
  const res = await fetch(`${base}${address}?VALUE`, { headers: { accept: 'application/json' } });
  return ((await res.json()) as { VALUE: unknown[] }).VALUE[0];
}

/** Polls OSCQuery until `ok(value)` (or the time is up) and returns the last value seen. */
export const untilValue = (base: string, address: string, ok: (v: unknown) => boolean, timeout = 5000): Promise<unknown> => poll(() => oscValue(base, address), ok, timeout);

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;

/** Sends one OSC message over UDP to the server's OSC port (found through OSCQuery HOST_INFO). */
export async function oscSend(base: string, address: string, value: number): Promise<void> {
  const info = (await (await fetch(`${base}/?HOST_INFO`, { headers: { accept: 'application/json' } })).json()) as { OSC_PORT: number };
  const udp = dgram.createSocket('udp4');
  try {
    await new Promise<void>((ok, fail) => udp.send(new OSC.Message(address, value).pack(), info.OSC_PORT, '127.0.0.1', (err) => (err ? fail(err) : ok())));
  } finally {
    udp.close();
  }
}

/** The value bar of a parameter on the page. */
export const bar = (page: Page, address: string) => page.locator(`.bar[data-address="${address}"]`).first();

/** What a value bar shows (aria-valuenow), as a number. */
export async function barValue(page: Page, address: string): Promise<number> {
  return Number(await bar(page, address).getAttribute('aria-valuenow'));
}

/** Grabs a bar in the middle and drags it by `fraction` of its width (relative, as a hand does). */
export async function dragBar(page: Page, address: string, fraction: number): Promise<void> {
  const box = (await bar(page, address).boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + box.width * fraction, y, { steps: 8 });
  await page.mouse.up();
}

/** Double-clicks a bar and types a value, as a performer setting an exact number. */
export async function typeIntoBar(page: Page, address: string, value: string): Promise<void> {
  await bar(page, address).dblclick();
  const entry = bar(page, address).locator('input.bar-entry');
  await entry.fill(value);
  await entry.press('Enter');
}

/** Keyboard shortcuts only fire when no text field has focus. */
export const blurAll = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

// The output windows in a real Chromium (playwright-core with /usr/bin/chromium) against a real
// `netbend serve` on the bundled default model (a square 256x256 picture), at a 16:9 viewport:
// the scene's fit mode (/netbend/output/fit) set from the control page, over OSC and by the
// WebSocket command, and followed by /output and the control page's preview; a window's own mode
// (?fit=, F on /output) winning over the scene; the blackout fading over /netbend/output/fade on
// /output and the preview, through intermediate brightness both ways; the scene's output settings
// in a preset and in undo.
//
// What the canvas shows is checked against the picture itself: the page keeps the packet it drew,
// so every mode's mapping (contain, cover, stretch) can be computed from it and compared with the
// pixels read back. The show is paused first, so the picture holds still while modes change.
// Every wait is on an event (a value on the server, a draw on the page) with a timeout that fails.
// Screenshots go to test/artifacts/output-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { ROOT, startServe, tempDir } from './helpers.ts';
import { previewHalvings } from '../app/server/frame-stream.ts';
import { artifact, blurAll, noChromium, oscSend, oscValue, suiteBrowser, untilValue } from './ui-helpers.ts';
import { BLACKOUT, OUTPUT_FADE, OUTPUT_FIT, PLAY, type FitMode } from '../app/core/addresses.ts';

/** What the page shows the tests (app/ui/connection.ts's debug handle) and what this test adds. */
type Win = typeof globalThis & {
  netbend: {
    drawn: { output: number; side: number; blackout: number; fit: string; box: number[] };
    stats: { value: { playing: boolean; frame: number } | null };
    latest: { output: { width: number; height: number; data: Uint8Array } };
    value(address: string): unknown;
  };
  leastBlackout?: number;
  __name?: unknown;
  look?: () => Look;
};

const MODEL = join(ROOT, 'models', 'default.onnx');
const skip = noChromium;
const browser = suiteBrowser();

const shot = (page: Page, name: string) => page.screenshot({ path: artifact(`output-${name}.png`) });
const outputUrl = (url: string, query = '') => url.replace(/\/(\?|$)/, `/output${query}$1`);

/** A plain WebSocket client of the show: commands and their replies (frames are not read). */
async function wsClient(url: string): Promise<{ call: (cmd: object) => Promise<{ ok: boolean; error?: string; result?: unknown }>; close: () => void }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1'));
  let id = 0;
  const waiting = new Map<number, (m: { ok: boolean; error?: string }) => void>();
  ws.on('message', (data, binary) => {
    if (binary) return;
    const m = JSON.parse(String(data)) as { type: string; id: number; ok: boolean; error?: string };
    if (m.type === 'reply') waiting.get(m.id)?.(m);
  });
  await new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
  const call = (cmd: object) =>
    new Promise<{ ok: boolean; error?: string }>((ok, fail) => {
      const n = ++id;
      const timer = setTimeout(() => fail(new Error(`no reply to ${JSON.stringify(cmd)}`)), 10_000);
      waiting.set(n, (m) => (clearTimeout(timer), ok(m)));
      ws.send(JSON.stringify({ ...cmd, id: n }));
    });
  return { call, close: () => ws.close() };
}

interface Look {
  /** The mode and blackout the view drew this picture with. */
  fit: string;
  blackout: number;
  /** The canvas, and the output window on it (the whole canvas, or a preview's frame). */
  width: number;
  height: number;
  box: { x: number; y: number; width: number; height: number };
  /** Share of exactly black pixels in a 2-pixel strip along each edge of the window. */
  black: { left: number; right: number; top: number; bottom: number };
  /** Mean brightness (0..255) of the window. */
  mean: number;
  sum: number;
  /** Mean |difference| (0..255) between the window and the picture mapped as each mode maps it. */
  error: Record<FitMode, number>;
}

/**
 * Installed in each page as `look()`: reads the output canvas back, in the same task as the mode,
 * blackout and window it was drawn with, and compares the window with the picture the page holds,
 * mapped by each mode (bilinear, as the canvas samples): fit contains it, fill covers the window with
 * it, stretch is the whole picture on the whole window.
 */
function installLook(): void {
  (globalThis as Win).look = () => {
    const nb = (globalThis as Win).netbend;
    const c = document.querySelector('#output') as HTMLCanvasElement;
    const [cw, ch] = [c.width, c.height];
    const px = c.getContext('2d')!.getImageData(0, 0, cw, ch).data;
    const at = (x: number, y: number) => ((ch - 1 - y) * cw + x) * 4; // y from the bottom, as the box is given
    // The window's pixels: those whose centres lie in the box the view drew it in.
    const [bx, by, bw, bh] = nb.drawn.box as [number, number, number, number];
    const [x0, x1, y0, y1] = [Math.ceil(bx - 0.5), Math.floor(bx + bw - 0.5), Math.ceil(by - 0.5), Math.floor(by + bh - 0.5)];
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    const strip = (xs: number[], ys: number[]) => {
      let black = 0;
      let n = 0;
      for (const y of ys) for (const x of xs) n++, (black += px[at(x, y)]! + px[at(x, y) + 1]! + px[at(x, y) + 2]! === 0 ? 1 : 0);
      return black / n;
    };
    const black = { left: strip([x0, x0 + 1], range(y0, y1)), right: strip([x1 - 1, x1], range(y0, y1)), top: strip(range(x0, x1), [y1 - 1, y1]), bottom: strip(range(x0, x1), [y0, y0 + 1]) };
    let total = 0;
    let sum = 0;
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const i = at(x, y);
        total += px[i]! + px[i + 1]! + px[i + 2]!;
        sum = (sum * 31 + px[i]! * 3 + px[i + 1]! * 5 + px[i + 2]! * 7) % 1_000_000_007;
      }
    const pic = nb.latest.output;
    const [pw, ph] = [pic.width, pic.height];
    const texel = (x: number, y: number, k: number) => pic.data[(Math.min(ph - 1, Math.max(0, y)) * pw + Math.min(pw - 1, Math.max(0, x))) * 4 + k]!;
    const sample = (u: number, v: number, k: number) => {
      const x = u * pw - 0.5;
      const y = v * ph - 0.5;
      const [tx, ty] = [Math.floor(x), Math.floor(y)];
      const [fx, fy] = [x - tx, y - ty];
      const top = texel(tx, ty, k) * (1 - fx) + texel(tx + 1, ty, k) * fx;
      const bottom = texel(tx, ty + 1, k) * (1 - fx) + texel(tx + 1, ty + 1, k) * fx;
      return top * (1 - fy) + bottom * fy;
    };
    // The picture's half-size in the window (1 = the window's edge), per mode.
    const wide = pw / ph > bw / bh;
    const r = (pw / ph) * (bh / bw);
    const scales = { fit: wide ? [1, 1 / r] : [r, 1], fill: wide ? [r, 1] : [1, 1 / r], stretch: [1, 1] };
    const error = {} as Record<string, number>;
    for (const [mode, [sx, sy]] of Object.entries(scales) as Array<[string, [number, number]]>) {
      let diff = 0;
      let n = 0;
      for (let gy = 0; gy < 27; gy++)
        for (let gx = 0; gx < 48; gx++) {
          const x = x0 + Math.floor(((gx + 0.5) / 48) * (x1 - x0 + 1));
          const y = y0 + Math.floor(((gy + 0.5) / 27) * (y1 - y0 + 1));
          const qx = (((x + 0.5 - bx) / bw) * 2 - 1) / sx;
          const qy = (((y + 0.5 - by) / bh) * 2 - 1) / sy;
          const inside = Math.abs(qx) <= 1 && Math.abs(qy) <= 1;
          for (let k = 0; k < 3; k++) diff += Math.abs(px[at(x, y) + k]! - (inside ? sample(qx * 0.5 + 0.5, 0.5 - qy * 0.5, k) : 0));
          n += 3;
        }
      error[mode] = diff / n;
    }
    const box = { x: bx, y: by, width: bw, height: bh };
    return { fit: nb.drawn.fit, blackout: nb.drawn.blackout, width: cw, height: ch, box, black, mean: total / (3 * (x1 - x0 + 1) * (y1 - y0 + 1)), sum, error: error as Record<FitMode, number> };
  };
}

/** What the page's output canvas shows now (see installLook). */
const look = (page: Page): Promise<Look> => page.evaluate(() => (globalThis as Win).look!());

/** Waits until the page's output view has drawn in `mode` (with no blackout), then looks. */
async function drawnIn(page: Page, mode: FitMode): Promise<Look> {
  await page.waitForFunction((m) => (globalThis as Win).netbend.drawn.fit === m && (globalThis as Win).netbend.drawn.blackout === 0, mode, { timeout: 10_000 });
  return look(page);
}

/** Two animation frames of the page: whatever it was going to draw for what it knows, it drew. */
const twoFrames = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

const bestMode = (l: Look) => (Object.entries(l.error) as Array<[FitMode, number]>).sort((a, b) => a[1] - b[1])[0]![0];

/** The canvas is the picture mapped as `mode` maps it, and clearly not as the others do. */
function assertMapped(l: Look, mode: FitMode, what: string): void {
  assert.equal(l.fit, mode, `${what}: drawn in ${mode}`);
  assert.equal(bestMode(l), mode, `${what}: the pixels are the picture mapped as ${mode} (errors ${JSON.stringify(l.error)})`);
  assert.ok(l.error[mode] < 6, `${what}: close to the ${mode} mapping (error ${l.error[mode].toFixed(2)})`);
  for (const other of Object.keys(l.error) as FitMode[]) if (other !== mode) assert.ok(l.error[other] > 3 * l.error[mode] + 4, `${what}: not the ${other} mapping (${JSON.stringify(l.error)})`);
}

function assertNoBars(l: Look, what: string): void {
  for (const [edge, share] of Object.entries(l.black)) assert.ok(share < 0.02, `${what}: no black bar at the ${edge} edge (${(share * 100).toFixed(1)}% black)`);
}

/** Waits (on the page's animation frames) until its blackout on screen is strictly between lo and hi, and looks then. */
async function midFade(page: Page, lo: number, hi: number, timeout = 10_000): Promise<Look> {
  // Looked at in the very animation frame the amount is seen in the window: a fade moves on.
  const seen = await page.waitForFunction(
    ([a, b]) => {
      const g = globalThis as Win;
      const x = g.netbend.drawn.blackout;
      return x > a && x < b && g.look!();
    },
    [lo, hi] as const,
    { timeout, polling: 'raf' },
  );
  return (await seen.jsonValue()) as Look;
}

const until = async (what: string, cond: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('/output at 16:9 on a square picture: fit has bars, fill and stretch none; ?fit= and F win over the scene; blackout fades both ways', { skip }, async (t) => {
  const presets = tempDir(t);
  const s = await startServe(MODEL, ['--presets', presets, '--fps', '10']);
  const base = s.url.replace(/\/$/, '');
  const errors: string[] = [];
  /** A page of its own browser context, or `beside` another page (the same browser: they hear each other). */
  const open = async (url: string, o: { viewport?: { width: number; height: number }; init?: () => void; beside?: Page } = {}) => {
    const viewport = o.viewport ?? { width: 1280, height: 720 };
    const p = await (o.beside ? o.beside.context() : await browser().newContext({ viewport })).newPage();
    if (o.beside) await p.setViewportSize(viewport);
    p.on('pageerror', (e) => errors.push(`${url}: ${e.message}`));
    // tsx keeps function names with an __name(fn, name) helper that the page does not have: the
    // helpers in look() are named consts, so the page gets a no-op one.
    await p.addInitScript(() => {
      (globalThis as Win).__name = (f: unknown) => f;
    });
    await p.addInitScript(installLook);
    if (o.init) await p.addInitScript(o.init);
    await p.goto(url);
    await p.waitForFunction(() => (globalThis as Win).netbend?.drawn.output >= 0, null, { timeout: 30_000 });
    return p;
  };
  const ws = await wsClient(s.url);
  const pages: Page[] = [];
  try {
    const control = await open(s.url, { viewport: { width: 1440, height: 900 } });
    // The output window opened from the same browser as the control page (as its link does).
    const out = await open(outputUrl(s.url), { beside: control });
    pages.push(control, out);

    // Hold the picture still: pause, and wait until both pages show the frame the engine holds.
    await control.click('#play');
    assert.equal(await untilValue(base, PLAY, (v) => v === false), false, 'paused');
    const held = (p: Page) =>
      p.waitForFunction(() => ((s) => s && !s.playing && (globalThis as Win).netbend.drawn.output === s.frame)((globalThis as Win).netbend.stats.value), null, { timeout: 10_000 });
    await Promise.all([held(control), held(out)]);
    // /output gets the picture whole; the preview asked for its drawn size and got what covers it.
    const got = (p: Page) => p.evaluate(() => [(globalThis as Win).netbend.latest.output.width, (globalThis as Win).netbend.drawn.side] as [number, number]);
    assert.equal((await got(out))[0], 256, '/output gets full frames');
    const [previewWidth, previewSide] = await got(control);
    assert.equal(previewWidth, 256 >> previewHalvings(256, 256, Math.ceil(previewSide / 64) * 64), `the preview's picture for a side of ${previewSide}`);

    // The scene's default: fit, the square picture between black bars left and right.
    assert.equal(await oscValue(base, OUTPUT_FIT), 'fit', 'fit is the default');
    const fit = await drawnIn(out, 'fit');
    assert.deepEqual([fit.width, fit.height], [1280, 720], 'the output canvas is the 16:9 window');
    assertMapped(fit, 'fit', 'fit');
    assert.equal(fit.black.left, 1, 'fit: a black bar on the left');
    assert.equal(fit.black.right, 1, 'fit: a black bar on the right');
    assert.ok(fit.black.top < 0.5 && fit.black.bottom < 0.5, 'fit: the picture reaches the top and the bottom');
    assert.equal(await control.locator('#output-fit [aria-checked="true"]').textContent(), 'fit', 'the control page shows the scene mode');
    await shot(out, '1-fit');

    // Fill, chosen on the control page: every output window and the preview cover, no bars.
    await control.click('#output-fit [data-value="fill"]');
    assert.equal(await untilValue(base, OUTPUT_FIT, (v) => v === 'fill'), 'fill', 'the control page set the scene to fill');
    const fill = await drawnIn(out, 'fill');
    assertMapped(fill, 'fill', '/output in fill');
    assertNoBars(fill, '/output in fill at 16:9');
    // The preview is framed as that window (16:9 in a taller pane) and shows what it shows.
    await control.locator('#output-window-shape', { hasText: 'in 1280×720' }).waitFor({ timeout: 5000 });
    const preview = await drawnIn(control, 'fill');
    assert.ok(
      Math.abs(preview.box.width / preview.box.height - 16 / 9) < 0.01 && preview.box.width < preview.width + 0.5,
      `the preview frames a 16:9 window (${JSON.stringify(preview.box)} in ${preview.width}x${preview.height})`,
    );
    assertMapped(preview, 'fill', 'the preview in fill');
    assertNoBars(preview, 'the preview in fill');
    await shot(out, '2-fill');
    await shot(control, '2-control-fill');

    // Stretch, over OSC (an enum by its index): covers too, and is not fill.
    await oscSend(base, OUTPUT_FIT, 2);
    assert.equal(await untilValue(base, OUTPUT_FIT, (v) => v === 'stretch'), 'stretch', 'OSC set the scene to stretch');
    const stretch = await drawnIn(out, 'stretch');
    assertMapped(stretch, 'stretch', 'stretch');
    assertNoBars(stretch, 'stretch');
    assert.notEqual(stretch.sum, fill.sum, 'stretch shows another picture than fill');
    assert.equal(await control.locator('#output-fit [aria-checked="true"]').textContent(), 'stretch', 'the control page follows OSC');
    await shot(out, '3-stretch');

    // A window of its own: ?fit=fit keeps its bars whatever the scene says (fill, by the WebSocket command).
    const pinned = await open(outputUrl(s.url, '?fit=fit'));
    pages.push(pinned);
    assertMapped(await drawnIn(pinned, 'fit'), 'fit', '?fit=fit while the scene is stretch');
    assert.equal((await ws.call({ cmd: 'set', address: OUTPUT_FIT, value: 'fill' })).ok, true, 'the WebSocket command sets the scene');
    assertNoBars(await drawnIn(out, 'fill'), 'the plain /output follows the scene to fill');
    await pinned.waitForFunction((a) => (globalThis as Win).netbend.value(a) === 'fill', OUTPUT_FIT, { timeout: 10_000 });
    await twoFrames(pinned);
    const still = await look(pinned);
    assertMapped(still, 'fit', '?fit=fit after the scene went to fill');
    assert.equal(still.black.left, 1, 'the ?fit=fit window keeps its bars');
    await shot(pinned, '4-override-fit');

    // F on /output: this window only, said on screen for a moment, kept in its URL.
    await out.keyboard.press('f');
    assertMapped(await drawnIn(out, 'stretch'), 'stretch', 'F: fill -> stretch');
    await out.locator('#output-flash.on', { hasText: 'stretch · this window' }).waitFor({ timeout: 5000 });
    assert.match(out.url(), /[?&]fit=stretch/, 'the URL keeps the window mode');
    await shot(out, '5-key-f');
    await out.locator('#output-flash:not(.on)').waitFor({ timeout: 5000 });
    assert.equal(await oscValue(base, OUTPUT_FIT), 'fill', 'F on /output leaves the scene alone');
    await out.keyboard.press('f');
    assertMapped(await drawnIn(out, 'fit'), 'fit', 'F: stretch -> fit');
    await out.keyboard.press('f');
    assertMapped(await drawnIn(out, 'fill'), 'fill', 'F: fit -> fill, the scene mode');
    await out.locator('#output-flash.on', { hasText: 'fill · as the scene' }).waitFor({ timeout: 5000 });
    assert.doesNotMatch(out.url(), /fit=/, 'following the scene again: no mode in the URL');
    await oscSend(base, OUTPUT_FIT, 2);
    assertMapped(await drawnIn(out, 'stretch'), 'stretch', 'and it follows the scene again');

    // F on the control page cycles the scene (stretch -> fit).
    await blurAll(control);
    await control.keyboard.press('f');
    assert.equal(await untilValue(base, OUTPUT_FIT, (v) => v === 'fit'), 'fit', 'F on the control page cycles the scene mode');
    await drawnIn(out, 'fit');

    // Undo and presets hold the scene's output settings like any other value.
    assert.equal((await ws.call({ cmd: 'undo' })).ok, true);
    assert.equal(await untilValue(base, OUTPUT_FIT, (v) => v === 'stretch'), 'stretch', 'undo puts the mode back');
    await oscSend(base, OUTPUT_FADE, 2.5);
    assert.equal(await untilValue(base, OUTPUT_FADE, (v) => v === 2.5), 2.5, 'the fade time over OSC');
    assert.equal((await ws.call({ cmd: 'savePreset', name: 'wide' })).ok, true);
    const file = readdirSync(presets).find((f) => f.endsWith('.json'))!;
    const saved = JSON.parse(readFileSync(join(presets, file), 'utf8')) as { params: Record<string, unknown> };
    assert.equal(saved.params[OUTPUT_FIT], 'stretch', 'the preset holds the fit mode');
    assert.equal(saved.params[OUTPUT_FADE], 2.5, 'and the fade time');
    await ws.call({ cmd: 'set', address: OUTPUT_FIT, value: 'fit' });
    await ws.call({ cmd: 'set', address: OUTPUT_FADE, value: 0.25 });
    assert.equal((await ws.call({ cmd: 'loadPreset', name: 'wide' })).ok, true);
    assert.equal(await untilValue(base, OUTPUT_FIT, (v) => v === 'stretch'), 'stretch', 'loading it brings the mode back');
    assert.equal(await oscValue(base, OUTPUT_FADE), 2.5, 'and the fade time');
    await ws.call({ cmd: 'set', address: OUTPUT_FADE, value: 60 });
    assert.equal(await oscValue(base, OUTPUT_FADE), 10, 'a fade time holds at its hard limit, 10 s');
    assert.equal((await ws.call({ cmd: 'set', address: OUTPUT_FADE, value: 'slow' })).ok, false, 'a fade time that is no number is refused');
    await ws.call({ cmd: 'set', address: OUTPUT_FADE, value: 1.5 });
    assert.equal((await ws.call({ cmd: 'set', address: OUTPUT_FIT, value: 'zoom' })).ok, false, 'an unknown mode is refused');

    // Blackout over 1.5 s, B on /output: /output and the preview pass through a mid brightness
    // (the picture dimmed by the shader's (1 - amount)^2), then black; B on the control page
    // brings it back the same way.
    await drawnIn(out, 'stretch');
    const lit = { out: (await look(out)).mean, control: (await look(control)).mean };
    assert.ok(lit.out > 20 && lit.control > 20, `the picture is lit (${lit.out.toFixed(1)}, ${lit.control.toFixed(1)})`);
    const dimmed = (l: Look, full: number, what: string) => {
      const expected = full * (1 - l.blackout) ** 2;
      assert.ok(l.mean > 0.04 * full && l.mean < 0.96 * full, `${what}: an intermediate brightness (${l.mean.toFixed(1)} of ${full.toFixed(1)} at ${l.blackout.toFixed(2)})`);
      assert.ok(Math.abs(l.mean - expected) < 0.08 * full + 2, `${what}: the picture dimmed by the fade (${l.mean.toFixed(1)}, expected ${expected.toFixed(1)} at ${l.blackout.toFixed(2)})`);
    };
    const t0 = Date.now();
    await out.keyboard.press('b');
    const [downOut, downControl] = await Promise.all([midFade(out, 0.3, 0.7), midFade(control, 0.3, 0.7)]);
    dimmed(downOut, lit.out, '/output fading out');
    dimmed(downControl, lit.control, 'the preview fading out');
    assert.equal(await untilValue(base, BLACKOUT, (v) => v === 1), 1, 'B on /output sets the scene blackout');
    await shot(out, '6-fading');
    await Promise.all([out, control].map((p) => p.waitForFunction(() => (globalThis as Win).netbend.drawn.blackout === 1, null, { timeout: 10_000 })));
    const faded = Date.now() - t0;
    assert.ok(faded >= 1200, `the fade took its time (${faded} ms for 1.5 s), not a cut`);
    const dark = await look(out);
    assert.ok(dark.mean < 0.5, `black at the end (${dark.mean.toFixed(2)})`);
    assert.ok((await look(control)).mean < 0.5, 'the preview is black too');
    await shot(out, '7-black');
    // Frames go on under the blackout (the page draws it; nothing stops): play, see new frames drawn black.
    await oscSend(base, PLAY, 1);
    const from = await out.evaluate(() => (globalThis as Win).netbend.drawn.output as number);
    await out.waitForFunction((f) => (globalThis as Win).netbend.drawn.output >= f + 2, from, { timeout: 20_000 });
    assert.ok((await look(out)).mean < 0.5, 'new frames, still black');
    await oscSend(base, PLAY, 0);
    assert.equal(await untilValue(base, PLAY, (v) => v === false), false, 'paused again');
    await Promise.all([held(control), held(out)]);

    await blurAll(control);
    await control.keyboard.press('b');
    const up = await midFade(out, 0.3, 0.7);
    await out.waitForFunction(() => (globalThis as Win).netbend.drawn.blackout === 0, null, { timeout: 10_000 });
    const back = await look(out);
    assert.ok(back.mean > 20, `the picture is back (${back.mean.toFixed(1)})`);
    dimmed(up, back.mean, '/output fading back in');
    assert.equal(await oscValue(base, BLACKOUT), 0, 'B on the control page turned the blackout off');
    assertMapped(back, 'stretch', 'after the blackout');

    // The output window goes: the preview fills its pane again.
    await out.close();
    await control.locator('#output-window-shape').waitFor({ state: 'detached', timeout: 5000 });
    await control.waitForFunction(() => ((c, b) => b[2] === c.width && b[3] === c.height)(document.querySelector('#output') as HTMLCanvasElement, (globalThis as Win).netbend.drawn.box), null, {
      timeout: 5000,
    });

    // A window opened during a blackout starts black, never flashing the picture.
    await oscSend(base, OUTPUT_FADE, 0);
    await oscSend(base, BLACKOUT, 1);
    await until('blackout on', async () => (await oscValue(base, BLACKOUT)) === 1);
    const late = await open(outputUrl(s.url), {
      init: () => {
        // From the first animation frame on: the least blackout any picture was drawn with.
        const g = globalThis as Win;
        const tick = () => {
          const d = g.netbend?.drawn;
          if (d && d.output >= 0) g.leastBlackout = Math.min(g.leastBlackout ?? 1, d.blackout);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      },
    });
    pages.push(late);
    await late.waitForFunction(() => (globalThis as Win).netbend.value('/netbend/output/blackout') === 1, null, { timeout: 10_000 });
    await twoFrames(late);
    assert.equal((await look(late)).mean, 0, 'opened during a blackout: black');
    assert.equal(await late.evaluate(() => (globalThis as Win).leastBlackout), 1, 'and never drew the picture on its way there');
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    ws.close();
    for (const p of pages) await p.context().close();
    await s.stop();
  }
});

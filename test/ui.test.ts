// The app end to end in a real Chromium (playwright-core with /usr/bin/chromium): the served engine,
// the control page, the output page. Screenshots of each step go to test/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fixture, ROOT, startServe, tempDir } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const skip = !existsSync(CHROMIUM) && 'no /usr/bin/chromium (apt install chromium)';
let browser: Browser;

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});
after(async () => browser?.close());

/** The output canvas as the page drew it, reduced to a checksum and a spread. */
async function canvasStats(page: Page, selector = '#output'): Promise<{ sum: number; spread: number }> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const gl = (c.getContext('webgl') ?? c.getContext('webgl2')) as WebGLRenderingContext;
    const px = new Uint8Array(c.width * c.height * 4);
    gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
    let sum = 0;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < px.length; i += 4) {
      const v = px[i]! + px[i + 1]! + px[i + 2]!;
      sum = (sum * 31 + v) % 1e9;
      lo = Math.min(lo, px[i]!);
      hi = Math.max(hi, px[i]!);
    }
    return { sum, spread: hi - lo };
  }, selector);
}

const oscValue = async (base: string, address: string) => (await (await fetch(`${base}${address}?VALUE`)).json()).VALUE[0];

test('control page: moving output, blend slider drives the engine and the picture, presets round trip', { skip }, async (t) => {
  const presets = tempDir(t);
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--presets', presets, '--fps', '20']);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    const base = s.url.replace(/\/$/, '');
    await page.goto(s.url);
    await page.waitForFunction(() => (globalThis as any).netbend?.latest.output, null, { timeout: 20_000 });
    await page.waitForTimeout(500);
    const a = await canvasStats(page);
    assert.ok(a.spread > 20, 'the output canvas is not blank');
    await page.waitForTimeout(700);
    const b = await canvasStats(page);
    assert.notEqual(a.sum, b.sum, 'the picture moves');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-1-playing.png') });

    // Hold the picture still so only the blend moves it.
    await page.click('#play');
    await page.waitForFunction(() => (globalThis as any).netbend.params.value['/netbend/transport/play'].value === false);
    await page.fill('#partner-path', fixture('stylegan2-64-tiny-b.onnx'));
    await page.click('#load-partner');
    const slider = page.locator('[data-address="/netbend/blend/all"] input[type=range]');
    await slider.waitFor({ timeout: 20_000 });
    await page.click('#play');
    await page.waitForTimeout(300);
    await page.click('#play');
    await page.waitForTimeout(500);
    const before = await canvasStats(page);
    await slider.evaluate((el: HTMLInputElement) => {
      el.value = '1';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    for (let i = 0; i < 100 && (await oscValue(base, '/netbend/blend/all')) !== 1; i++) await page.waitForTimeout(50);
    assert.equal(await oscValue(base, '/netbend/blend/all'), 1, 'the engine parameter moved');
    // One frame with the new weights (the session swap happened at load; this is an amount change).
    await page.click('#play');
    await page.waitForTimeout(600);
    await page.click('#play');
    await page.waitForTimeout(400);
    const blended = await canvasStats(page);
    assert.notEqual(blended.sum, before.sum, 'the picture changed with the blend');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-2-blended.png') });

    // Presets: save a value, change it, load the preset back through the UI.
    const speed = page.locator('[data-address="/netbend/source/z/speed"] input[type=range]');
    const setSpeed = (v: string) =>
      speed.evaluate((el: HTMLInputElement, value) => {
        el.value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, v);
    await setSpeed('1.5');
    for (let i = 0; i < 50 && (await oscValue(base, '/netbend/source/z/speed')) !== 1.5; i++) await page.waitForTimeout(50);
    await page.fill('#preset-name', 'ui check');
    await page.click('#save-preset');
    await page.locator('.preset[data-name="ui check"]').waitFor({ timeout: 10_000 });
    await setSpeed('-3');
    for (let i = 0; i < 50 && (await oscValue(base, '/netbend/source/z/speed')) !== -3; i++) await page.waitForTimeout(50);
    assert.equal(await oscValue(base, '/netbend/source/z/speed'), -3);
    await page.click('.preset[data-name="ui check"]');
    for (let i = 0; i < 100 && (await oscValue(base, '/netbend/source/z/speed')) !== 1.5; i++) await page.waitForTimeout(50);
    assert.equal(await oscValue(base, '/netbend/source/z/speed'), 1.5, 'the preset restored the value');
    assert.equal(await page.locator('[data-address="/netbend/source/z/speed"] .value').textContent(), '1.500', 'and the page shows it');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-3-preset.png') });

    // The clean output page.
    const out = await browser.newPage({ viewport: { width: 960, height: 540 } });
    await out.goto(s.url.replace(/\/(\?|$)/, '/output$1'));
    await out.waitForFunction(() => (globalThis as any).netbend?.latest.output, null, { timeout: 20_000 });
    await out.waitForTimeout(300);
    assert.ok((await canvasStats(out)).spread > 20, '/output shows the picture');
    assert.equal(await out.locator('header, aside, button').count(), 0, 'no chrome on /output');
    await out.screenshot({ path: join(ARTIFACTS, 'ui-4-output.png') });
    await out.close();
  } finally {
    await page.close();
    await s.stop();
  }
});

test('layer view: selecting L6 of StyleGAN3 shows a view of that layer\'s size', { skip }, async () => {
  const s = await startServe(fixture('stylegan3t-128-tiny.onnx'), ['--fps', '5']);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(s.url);
    await page.waitForFunction(() => (globalThis as any).netbend?.latest.output, null, { timeout: 60_000 });
    await page.selectOption('#layer-select', 'G.synthesis.L6_84_128');
    await page.waitForFunction(() => (globalThis as any).netbend.latest.tap, null, { timeout: 60_000 });
    const tap = await page.evaluate(() => {
      const t = (globalThis as any).netbend.latest.tap;
      return [t.channels, t.height, t.width];
    });
    assert.deepEqual(tap, [128, 84, 84]);
    await page.waitForFunction(() => document.querySelector('#tap-label')?.textContent?.includes('128×84×84'), null, { timeout: 10_000 });
    await page.waitForTimeout(500);
    assert.ok((await canvasStats(page, '#tap')).spread > 20, 'the layer view is drawn');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-5-layer-L6.png') });
  } finally {
    await page.close();
    await s.stop();
  }
});

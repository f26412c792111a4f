// The app end to end in a real Chromium (playwright-core with /usr/bin/chromium) against a real
// `netbend serve`: the control page, the clean output page, and the layer views. Every control is
// driven the way a hand drives it (drag, double-click and type, keys); every effect is checked on
// the engine through OSCQuery and on the pictures by reading the canvases back.
// Screenshots of each step go to test/artifacts/ (git-ignored).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { fixture, tempDir } from './helpers.ts';
import { bestColumns, packAtlas, Pca, robustRange } from '../app/ui/tap-math.ts';
import {
  artifact,
  bar,
  barValue,
  blurAll,
  canvasStats,
  columnMean,
  dragBar,
  framesLater,
  noChromium,
  oscSend,
  oscValue,
  servePage,
  suiteBrowser,
  typeIntoBar,
  untilCanvas,
  untilValue,
} from './ui-helpers.ts';

const skip = noChromium;
const browser = suiteBrowser();

const shot = (page: Page, name: string) => page.screenshot({ path: artifact(`ui-${name}.png`) });
const SPEED = '/netbend/source/z/speed';
const AMPLITUDE = '/netbend/source/z/amplitude';
const BLEND = '/netbend/blend/all';

test('control page: live output, OSC shows up live, blend slider drives engine and picture, edits, presets, keys; /output', { skip }, async (t) => {
  const { s, base, page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--presets', tempDir(t), '--fps', '20'], { browser: browser() });
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
  await framesLater(page, 2);
  const a = await canvasStats(page, '#output');
  assert.ok(a.spread > 20, `the output canvas is not blank (spread ${a.spread})`);
  await framesLater(page, 4);
  const b = await canvasStats(page, '#output');
  assert.notEqual(a.sum, b.sum, 'the picture moves');
  await shot(page, '1-playing');

  // OSC from outside shows up on the page, live: stop the latent walk so only the blend moves it.
  await page.click('#tab-sources');
  await bar(page, SPEED).waitFor();
  await oscSend(base, SPEED, 0);
  await page.waitForFunction((a) => document.querySelector(`.bar[data-address="${a}"]`)?.getAttribute('aria-valuenow') === '0', SPEED, { timeout: 5000 });
  await framesLater(page, 3);
  const still1 = await canvasStats(page, '#output');
  await framesLater(page, 3);
  const still2 = await canvasStats(page, '#output');
  assert.equal(still1.sum, still2.sum, 'speed 0 (set over OSC) holds the picture still');

  // Blend partner through the UI, then the blend slider by hand.
  await page.click('#tab-model');
  await page.fill('#partner-path', fixture('stylegan2-64-tiny-b.onnx'));
  await page.click('#load-partner');
  await bar(page, BLEND).waitFor({ timeout: 30_000 });
  assert.ok(await page.locator('.lrow[data-layer="G.synthesis.b32"] .bar[data-address="/netbend/blend/G.synthesis.b32"]').count(), 'per-layer blend sliders in the tree');
  await framesLater(page, 2);
  const unblended = await canvasStats(page, '#output');
  await dragBar(page, BLEND, 0.35);
  const shown = await barValue(page, BLEND);
  assert.ok(shown > 0.5, `the slider moved (${shown})`);
  const engine = await untilValue(base, BLEND, (v) => v === shown);
  assert.equal(engine, shown, 'the engine has the value the slider shows');
  await framesLater(page, 2);
  const blended = await canvasStats(page, '#output');
  assert.notEqual(blended.sum, unblended.sum, 'the picture changed with the blend');
  await shot(page, '2-blended');

  // A per-layer edit from the tree, its amount slider, and its removal.
  await page.click('.lrow[data-layer="G.synthesis.b32"] button.add');
  await page.selectOption('.lrow-adder select.op-select', 'scale');
  await page.fill('.lrow-adder input.amount', '2.5');
  await page.click('.lrow-adder button[type=submit]');
  const editBar = page.locator('.edit .bar[data-address^="/netbend/edit/"]');
  await editBar.waitFor({ timeout: 20_000 });
  const editAddress = (await editBar.getAttribute('data-address'))!;
  assert.equal(await oscValue(base, editAddress), 2.5, 'the edit is in the engine with its amount');
  await shot(page, '3-edit');
  await page.click('.edit button.remove');
  await editBar.waitFor({ state: 'detached', timeout: 10_000 });

  // Presets: set a value by typing it, save, change it from outside, load through the UI.
  await page.click('#tab-sources');
  await typeIntoBar(page, AMPLITUDE, '1.75');
  assert.equal(await untilValue(base, AMPLITUDE, (v) => v === 1.75), 1.75, 'typed value reached the engine');
  await page.fill('#preset-name', 'ui check');
  await page.click('#save-preset');
  await page.locator('.preset[data-name="ui check"]').waitFor({ timeout: 10_000 });
  await oscSend(base, AMPLITUDE, 0.5);
  await page.waitForFunction((a) => document.querySelector(`.bar[data-address="${a}"]`)?.getAttribute('aria-valuenow') === '0.5', AMPLITUDE, { timeout: 5000 });
  await page.click('.preset[data-name="ui check"]');
  assert.equal(await untilValue(base, AMPLITUDE, (v) => v === 1.75), 1.75, 'the preset restored the engine value');
  await page.waitForFunction((a) => document.querySelector(`.bar[data-address="${a}"]`)?.getAttribute('aria-valuenow') === '1.75', AMPLITUDE, { timeout: 5000 });
  assert.equal(await oscValue(base, BLEND), shown, 'and the blend amount with it');
  // Key 1 recalls the first preset too.
  await oscSend(base, AMPLITUDE, 0.25);
  await untilValue(base, AMPLITUDE, (v) => v === 0.25);
  await blurAll(page);
  await page.keyboard.press('1');
  assert.equal(await untilValue(base, AMPLITUDE, (v) => v === 1.75), 1.75, 'key 1 loads preset 1');
  await shot(page, '4-preset');

  // Keys: B fades to black and back, F fit / fill / stretch (the scene's), space pause/play, ? help.
  await page.keyboard.press('b');
  assert.equal(await untilValue(base, '/netbend/output/blackout', (v) => v === 1), 1, 'B sets blackout');
  await page.waitForFunction(() => (globalThis as any).netbend.drawn.blackout === 1, null, { timeout: 5000 });
  assert.ok((await canvasStats(page, '#output')).mean < 2, 'the output faded to black');
  await shot(page, '5-blackout');
  await page.keyboard.press('b');
  assert.equal(await untilValue(base, '/netbend/output/blackout', (v) => v === 0), 0);
  await page.keyboard.press('f');
  assert.equal(await page.locator('#output-fit [aria-checked="true"]').textContent(), 'fill', 'F switches to fill');
  assert.equal(await untilValue(base, '/netbend/output/fit', (v) => v === 'fill'), 'fill', 'for the scene');
  await page.waitForFunction(() => (globalThis as any).netbend.drawn.fit === 'fill', null, { timeout: 5000 });
  assert.ok((await columnMean(page, '#output', 0.01)) > 0, 'fill covers the canvas edge to edge');
  await page.keyboard.press('f');
  await page.keyboard.press('f');
  assert.equal(await untilValue(base, '/netbend/output/fit', (v) => v === 'fit'), 'fit', 'F cycles fill, stretch, fit');
  await page.keyboard.press(' ');
  assert.equal(await untilValue(base, '/netbend/transport/play', (v) => v === false), false, 'space pauses');
  await page.keyboard.press(' ');
  assert.equal(await untilValue(base, '/netbend/transport/play', (v) => v === true), true, 'space plays');
  await page.keyboard.press('?');
  await page.locator('#help').waitFor();
  await shot(page, '6-help');
  await page.keyboard.press('Escape');
  await page.locator('#help').waitFor({ state: 'detached' });

  // The clean output page: picture only, letterboxed, no chrome, cursor hides when idle.
  const out = await browser().newPage({ viewport: { width: 960, height: 540 } });
  try {
    await out.goto(s.url.replace(/\/(\?|$)/, '/output$1'));
    await out.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
    await framesLater(out, 2);
    const o = await canvasStats(out, '#output');
    assert.ok(o.spread > 20, '/output shows the picture');
    assert.equal(o.width, 960);
    assert.equal(await columnMean(out, '#output', 0.02), 0, 'black bars left and right of the square picture');
    assert.ok((await columnMean(out, '#output', 0.5)) > 0, 'the picture in the middle');
    assert.equal(await out.locator('header, aside, button, input, select, a').count(), 0, 'no chrome on /output');
    await out.mouse.move(300, 200);
    assert.equal(await out.evaluate(() => document.body.classList.contains('idle')), false, 'cursor shows when moved');
    await out.waitForFunction(() => document.body.classList.contains('idle'), null, { timeout: 3500 });
    await out.screenshot({ path: artifact('ui-7-output.png') });
  } finally {
    await out.close();
  }
  assert.deepEqual(errors, [], 'no page errors');
});

test("layer view: L6 of StyleGAN3 as grid, one channel and PCA, at that layer's size", { skip }, async (t) => {
  const { page, errors } = await servePage(t, fixture('stylegan3t-128-tiny.onnx'), ['--fps', '5'], { browser: browser() });
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 60_000 });
  await page.selectOption('#layer-select', 'G.synthesis.L6_84_128');
  await page.waitForFunction(() => (globalThis as any).netbend.drawn.tap === 'G.synthesis.L6_84_128' && (globalThis as any).netbend.drawn.tapSize[0] > 0, null, { timeout: 60_000 });
  const drawn = () => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as any).netbend.drawn)) as { tapSize: number[]; view: number[] });
  assert.deepEqual((await drawn()).tapSize, [128, 84, 84], 'the tap is the layer: 128 channels of 84×84');
  const label = (await page.locator('#tap-label').textContent()) ?? '';
  assert.ok(label.includes('G.synthesis.L6_84_128') && label.includes('128×84×84'), `label names the layer and its size: ${label}`);
  const grid = (await drawn()).view;
  assert.ok(grid[0]! % 84 === 0 && grid[1]! % 84 === 0 && (grid[0]! / 84) * (grid[1]! / 84) >= 128, `grid of 84×84 cells for 128 channels: ${grid}`);
  assert.ok((await canvasStats(page, '#tap')).spread > 20, 'the grid is drawn');
  await shot(page, '8-layer-grid');

  await page.click('#tap-mode [data-value="channel"]');
  await page.waitForFunction(() => (globalThis as any).netbend.drawn.view.join() === '84,84', null, { timeout: 5000 });
  const one = await canvasStats(page, '#tap');
  assert.ok(one.spread > 20, 'one channel is drawn');
  await page.click('#tap-map [data-value="2"]');
  await page.click('#tap-channel button[aria-label="next channel"]');
  await page.locator('#tap-channel', { hasText: /ch 1/ }).waitFor({ timeout: 5000 });
  assert.match((await page.locator('#tap-channel').textContent()) ?? '', /ch 1/);
  const next = await untilCanvas(page, '#tap', (c) => c.sum !== one.sum);
  assert.notEqual(next.sum, one.sum, 'another channel, another colormap, another picture');
  await shot(page, '9-layer-channel');

  const shown = await canvasStats(page, '#tap');
  await page.click('#tap-mode [data-value="pca"]');
  // Drawn on the view's next frame: the picture moves off the channel it showed.
  const pca = await untilCanvas(page, '#tap', (c) => c.sum !== shown.sum);
  assert.notEqual(pca.sum, shown.sum, 'PCA, another picture');
  assert.deepEqual((await drawn()).view, [84, 84], 'PCA view at the layer size');
  assert.ok(pca.spread > 20 && pca.chroma > 30, `PCA shows colour (spread ${pca.spread}, chroma ${pca.chroma})`);
  await shot(page, '10-layer-pca');
  assert.deepEqual(errors, [], 'no page errors');
});

test('tap maths: atlas layout, robust range, PCA finds planted components and keeps its signs', () => {
  assert.equal(bestColumns(64, 32, 32, 436, 565), 8, '64 channels as 8x8, not 7x10');
  assert.equal(bestColumns(128, 84, 84, 800, 400), 16);
  // Channel k's pixel (y, x) lands in its cell.
  const [c, h, w] = [5, 3, 4];
  const t = Float32Array.from({ length: c * h * w }, (_, i) => i);
  const a = packAtlas(t, c, h, w, 2, 4096);
  assert.deepEqual([a.cols, a.rows, a.width, a.height], [2, 3, 8, 9]);
  assert.equal(a.data[(1 * h + 1) * a.width + 1 * w + 2], 3 * h * w + 1 * w + 2, 'channel 3, y 1, x 2');
  const small = packAtlas(t, c, h, w, 2, 4);
  assert.ok(small.width <= 4 && small.height <= 4 && small.stride > 1, 'too big for a texture: subsampled');
  // One hot pixel does not set the range.
  const r = robustRange(Float32Array.from({ length: 10_000 }, (_, i) => (i === 77 ? 1e6 : (i % 100) / 100)));
  assert.ok(r[1] < 1.01 && r[0] >= 0, `robust range ${r}`);

  // 3 orthonormal channel patterns with variances 9 : 4 : 1, plus a little noise, over 96 channels.
  const C = 96;
  const N = 40 * 40;
  const basis: Float64Array[] = [];
  for (let k = 0; k < 3; k++) {
    const v = Float64Array.from({ length: C }, (_, i) => Math.sin(i * (0.3 + 0.41 * k) + k));
    for (const u of basis) {
      const d = v.reduce((s, x, i) => s + x * u[i]!, 0);
      for (let i = 0; i < C; i++) v[i]! -= d * u[i]!;
    }
    const norm = Math.hypot(...v);
    basis.push(v.map((x) => x / norm));
  }
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const z = [3, 2, 1].map((sd) => Float64Array.from({ length: N }, () => sd * rand() * Math.sqrt(3)));
  const tensor = new Float32Array(C * N);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < N; i++) tensor[ch * N + i] = 5 + z[0]![i]! * basis[0]![ch]! + z[1]![i]! * basis[1]![ch]! + z[2]![i]! * basis[2]![ch]! + 0.01 * rand();
  const pca = new Pca();
  const first = pca.run(tensor, C, 40, 40);
  for (let k = 0; k < 3; k++) {
    const dot = Math.abs(first.basis[k]!.reduce((s, x, i) => s + x * basis[k]![i]!, 0));
    assert.ok(dot > 0.98, `component ${k} found (|cos| ${dot.toFixed(4)})`);
  }
  assert.ok(first.sigma[0] > first.sigma[1] && first.sigma[1] > first.sigma[2], `ordered by variance: ${first.sigma}`);
  assert.ok(Math.abs(first.sigma[0] - 3) < 0.3, `sigma of the first ≈ 3: ${first.sigma[0]}`);
  // Projections: pixel i's first component is ±z0[i] (the mean of 5 removed).
  const sign = Math.sign(first.basis[0]!.reduce((s, x, i) => s + x * basis[0]![i]!, 0));
  assert.ok(Math.abs(first.data[3 * 10]! - sign * z[0]![10]!) < 0.1, 'projection of a pixel');
  // Next frame, same layer: warm start, same signs.
  const again = pca.run(tensor, C, 40, 40);
  for (let k = 0; k < 3; k++) assert.ok(again.basis[k]!.reduce((s, x, i) => s + x * first.basis[k]![i]!, 0) > 0.99, `component ${k} keeps its sign`);
});

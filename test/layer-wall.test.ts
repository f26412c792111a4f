// The layer wall in a real Chromium against a real `netbend serve`: four pinned views of four
// layers at once, each drawing its own layer at the layer's own shape, in a 2x2 grid of equal cells;
// a view that follows the selection changes with it; the FPS and inference graph draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, tempDir } from './helpers.ts';
import { artifact, noChromium, servePage } from './ui-helpers.ts';

test('a 4-tap layer wall shows 4 views of the right sizes; a following view follows the selection', { skip: noChromium }, async (t) => {
  const { page, errors } = await servePage(t, fixture('stylegan3t-128-tiny.onnx'), ['--presets', tempDir(t), '--fps', '10']);
  await page.locator('#layer-select option').nth(4).waitFor({ state: 'attached', timeout: 30_000 });
  await page.click('#wall-toggle');
  await page.locator('#wall .wall-cell').first().waitFor();
  for (let i = 1; i < 4; i++) await page.click('#wall-add');
  const cells = page.locator('#wall .wall-cell');
  assert.equal(await cells.count(), 4);
  // Four layers of different shapes, each pinned to one view.
  const options = await cells
    .nth(0)
    .locator('select option')
    .evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })).filter((o) => o.value));
  const picked: Array<{ value: string; shape: string }> = [];
  for (const o of options) {
    const shape = /(\d+(?:×\d+)+)\s*$/.exec(o.text)?.[1];
    if (shape && shape.split('×').length === 3 && !picked.some((p) => p.shape === shape)) picked.push({ value: o.value, shape });
    if (picked.length === 4) break;
  }
  assert.equal(picked.length, 4, `four layers of distinct shapes: ${options.map((o) => o.text).join(' | ')}`);
  for (const [i, p] of picked.entries()) await cells.nth(i).locator('select').selectOption(p.value);
  for (const [i, p] of picked.entries()) {
    await page.waitForFunction(([k, want]) => document.querySelector(`#wall .wall-cell[data-cell="${k}"]`)?.getAttribute('data-drawn') === want, [i, p.shape.replace(/×/g, 'x')] as const, {
      timeout: 30_000,
    });
  }
  // A 2x2 grid of equal cells.
  const boxes = await Promise.all([0, 1, 2, 3].map(async (i) => (await cells.nth(i).boundingBox())!));
  assert.equal(new Set(boxes.map((b) => Math.round(b.x))).size, 2, 'two columns');
  assert.equal(new Set(boxes.map((b) => Math.round(b.y))).size, 2, 'two rows');
  for (const b of boxes) assert.ok(Math.abs(b.width - boxes[0]!.width) < 2 && Math.abs(b.height - boxes[0]!.height) < 2, 'equal cells');
  // One view on one channel, stepped with its own arrows.
  await cells.nth(1).locator('.wall-foot [data-value="channel"]').click();
  await cells.nth(1).locator('[aria-label="next channel"]').click();
  await cells.nth(1).locator('[data-channel="1"]').waitFor();
  await page.screenshot({ path: artifact('layer-wall-4.png') });

  // Back to following: the view shows the layer selected in the model panel, and follows it.
  await cells.nth(3).locator('select').selectOption('');
  await page.click('#tab-model');
  for (const p of [picked[1]!, picked[2]!]) {
    await page.locator(`.lrow[data-layer="${p.value}"] .lname`).click();
    await page.waitForFunction(([want]) => document.querySelector('#wall .wall-cell[data-cell="3"]')?.getAttribute('data-drawn') === want, [p.shape.replace(/×/g, 'x')] as const, {
      timeout: 30_000,
    });
    assert.equal(await cells.nth(3).getAttribute('data-layer'), p.value);
  }
  assert.equal(await cells.nth(0).getAttribute('data-layer'), picked[0]!.value, 'a pinned view stays');
  await page.locator('#stats-graph').waitFor({ timeout: 20_000 });
  assert.deepEqual(errors, []);
});

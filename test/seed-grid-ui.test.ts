// The seed grid on the page, in a real Chromium: the sources tab renders a 4x4 grid of seeds from
// the server, a click on a cell jumps the latent there (its seed) or keeps it as a keyframe
// (serve --source z=keyframes), and the "around current" grid at spread 0 shows the current
// picture in every cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';
import { artifact, noChromium, servePage, untilValue } from './ui-helpers.ts';

test('the sources tab renders a seed grid; a click on a cell jumps to its seed or keeps it as a keyframe', { skip: noChromium }, async (t) => {
  const dir = tempDir(t);
  const { base, page, errors } = await servePage(t, join(ROOT, 'models', 'default.onnx'), ['--presets', dir, '--fps', '10', '--source', 'z=keyframes']);
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
  await page.click('#tab-sources');
  await page.fill('#seed-grid-seed', '100');
  await page.click('#seed-grid-render');
  const cells = page.locator('#seed-grid .seed-cell');
  await page.waitForFunction(() => document.querySelectorAll('#seed-grid .seed-cell img').length === 16, null, { timeout: 60_000 });
  assert.equal(await cells.count(), 16);
  const seeds = await cells.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.seed));
  assert.deepEqual(
    seeds,
    Array.from({ length: 16 }, (_, i) => String(100 + i)),
  );
  // Every picture decoded, at the model's size.
  const sizes = await page.$$eval('#seed-grid .seed-cell img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
  assert.ok(sizes.every((w) => w > 0));
  const srcs = await page.$$eval('#seed-grid .seed-cell img', (imgs) => imgs.map((i) => (i as HTMLImageElement).src));
  assert.equal(new Set(srcs).size, 16, 'sixteen different pictures');
  await page.screenshot({ path: artifact('seed-grid-1.png') });
  await page.click('#seed-grid .seed-cell[data-cell="5"]');
  assert.equal(await untilValue(base, '/netbend/source/z/seed', (v) => v === 105), 105);
  // Keep: two picks become the keyframe loop's keyframes.
  await page.click('#seed-grid-action [data-value="keep"]');
  await page.click('#seed-grid .seed-cell[data-cell="2"]');
  await page.click('#seed-grid .seed-cell[data-cell="9"]');
  await page.waitForFunction(() => document.querySelector('#seed-grid .block-title .count')?.textContent === '2 kept', null, { timeout: 10_000 });
  await page.click('#seed-grid-action [data-value="jump"]');
  // Around the current latent at spread 0: every cell is the same picture.
  await page.check('#seed-grid-around');
  await page.locator('#seed-grid-spread').fill('0');
  await page.click('#seed-grid-render');
  await page.waitForFunction(() => document.querySelectorAll('#seed-grid .seed-cell[data-seed=""]').length === 16, null, { timeout: 60_000 });
  const around = await page.$$eval('#seed-grid .seed-cell img', (imgs) => imgs.map((i) => (i as HTMLImageElement).src));
  assert.equal(new Set(around).size, 1, 'spread 0: sixteen copies of the current picture');
  assert.deepEqual(errors, []);
});

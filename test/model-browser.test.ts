// The model browser in a real Chromium against a real `netbend serve`: the model folders' files
// with thumbnails, sizes and inputs/outputs; partners offered only where they fit (a mismatch in
// one line, the list on demand); a fixture opened from the list; a model dropped onto the page
// saved into the user's model folder and played.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, fixture, ROOT, tempDir } from './helpers.ts';
import { artifact, bar, noChromium, servePage } from './ui-helpers.ts';

test('model browser: list, thumbnails, compatible partners only, open from the list, drop a model onto the page', { skip: noChromium }, async (t) => {
  const home = tempDir(t);
  process.env.NETBEND_HOME = home;
  t.after(() => delete process.env.NETBEND_HOME);
  const { page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--models', FIXTURES, '--presets', tempDir(t)]);
  await page.click('#tab-model');
  await page.click('#model-browser button[data-open="false"]');
  const entry = (name: string) => page.locator(`#model-browser .model-entry[data-model="${name}"]`);
  await entry('stylegan3r-64-tiny.onnx').waitFor({ timeout: 60_000 });
  // Size and inputs/outputs, read from the files.
  assert.match((await entry('stylegan2-64-tiny-b.onnx').textContent()) ?? '', /MB.*64×64/);
  // The -b twin blends; another architecture says why in one line, and lists on demand.
  await entry('stylegan2-64-tiny-b.onnx').locator('[data-blend]').waitFor();
  assert.equal(await entry('stylegan3r-64-tiny.onnx').locator('[data-blend]').count(), 0);
  const why = entry('stylegan3r-64-tiny.onnx').locator('.model-why');
  assert.match((await why.textContent()) ?? '', /not a partner: \d+ of \d+ weights do not match/);
  await why.locator('button').click();
  assert.match((await why.locator('pre').textContent()) ?? '', /missing in the partner/);
  // Thumbnails are the models' own first frames.
  await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLImageElement | null)?.naturalWidth === 64, '#model-browser .model-entry[data-model="stylegan3r-64-tiny.onnx"] img', {
    timeout: 60_000,
  });
  await page.screenshot({ path: artifact('model-browser-1.png') });

  // The partner picker lists compatible models only.
  const picks = (await page.locator('#partner-pick option').allTextContents()).slice(1);
  assert.ok(picks.includes('stylegan2-64-tiny-b.onnx'), `picks: ${picks}`);
  assert.ok(!picks.some((p) => p.startsWith('stylegan3')), 'no StyleGAN3 for a StyleGAN2');
  // The list names files by their real paths (a linked fixtures folder is followed).
  await page.selectOption('#partner-pick', realpathSync(fixture('stylegan2-64-tiny-b.onnx')));
  await bar(page, '/netbend/blend/all').waitFor({ timeout: 30_000 });

  // Open a fixture from the list.
  await entry('stylegan3r-64-tiny.onnx').locator('[data-play]').click();
  await page.waitForFunction(() => document.querySelector('.model-name')?.textContent === 'stylegan3r-64-tiny.onnx', null, { timeout: 60_000 });

  // Drop a model onto the page: saved to the user's folder, then played.
  const bytes = readFileSync(join(ROOT, 'models', 'default.onnx')).toString('base64');
  await page.evaluate((b64) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([raw], 'dropped model.onnx'));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await page.waitForFunction(() => document.querySelector('.model-name')?.textContent === 'dropped-model.onnx', null, { timeout: 60_000 });
  assert.ok(existsSync(join(home, 'models', 'dropped-model.onnx')), 'saved into the user model folder');
  await entry('dropped-model.onnx').waitFor();
  await page.screenshot({ path: artifact('model-browser-2-dropped.png') });
  // The recent list remembers what was played from the page.
  assert.match((await page.locator('#model-browser .recent').textContent()) ?? '', /stylegan3r-64-tiny\.onnx/);
  assert.deepEqual(errors, []);
});

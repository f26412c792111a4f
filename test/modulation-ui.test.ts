// Modulation from the slider in a real Chromium against a real `netbend serve`: an LFO added to
// blend/all from its ~ button moves the value (and the picture) between two screenshots, the
// slider shows its base, the modulation tab mutes it, and undo brings it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, tempDir } from './helpers.ts';
import { artifact, bar, canvasStats, framesLater, noChromium, servePage, oscValue } from './ui-helpers.ts';

const BLEND = '/netbend/blend/all';

test('an LFO on blend/all from its slider: the value moves, the base shows, mute holds it, undo unmutes', { skip: noChromium }, async (t) => {
  const { base, page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--presets', tempDir(t), '--fps', '20']);
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
  await page.click('#tab-model');
  await page.fill('#partner-path', fixture('stylegan2-64-tiny-b.onnx'));
  await page.click('#load-partner');
  await bar(page, BLEND).waitFor({ timeout: 30_000 });

  await page.click(`button[data-mod="${BLEND}"]`);
  const editor = page.locator(`[data-mod-editor="${BLEND}"]`);
  await editor.waitFor();
  await editor.locator('input[data-field="rate"]').fill('0.6');
  await editor.locator('input[data-field="depth"]').fill('0.5');
  await editor.locator('[data-mod-apply]').click();
  await editor.waitFor({ state: 'detached' });
  await page.locator(`.bar[data-address="${BLEND}"] .bar-base`).waitFor();

  // The value moves on the engine and on the slider, and so does the picture.
  const now = () => page.locator(`.bar[data-address="${BLEND}"]`).getAttribute('aria-valuenow');
  const first = await now();
  const p1 = await canvasStats(page, '#output');
  await page.screenshot({ path: artifact('modulation-1.png') });
  await page.waitForFunction(([a, v]) => document.querySelector(`.bar[data-address="${a}"]`)?.getAttribute('aria-valuenow') !== v, [BLEND, first] as const, { timeout: 10_000 });
  await framesLater(page, 2);
  const p2 = await canvasStats(page, '#output');
  await page.screenshot({ path: artifact('modulation-2.png') });
  assert.notEqual(p1.sum, p2.sum, 'the picture moved with the LFO');
  const v1 = Number(await oscValue(base, BLEND));
  await framesLater(page, 3);
  const v2 = Number(await oscValue(base, BLEND));
  assert.notEqual(v1, v2, 'the engine value moves');
  assert.ok(v1 >= -0.5 - 1e-6 && v1 <= 0.5 + 1e-6, `around the base it had (0), within the depth: ${v1}`);

  // The modulation tab lists it; mute holds the value.
  await page.click('#tab-mods');
  const item = page.locator('#modulators .mod-item');
  await item.waitFor();
  assert.match((await item.textContent()) ?? '', /blend\/all.*sine:0\.6hz:depth=0\.5/);
  await item.locator('.mod-mute').click();
  await page.locator('#modulators .mod-item.muted').waitFor();
  await framesLater(page, 2);
  const m1 = await oscValue(base, BLEND);
  await framesLater(page, 4);
  assert.equal(await oscValue(base, BLEND), m1, 'muted: the value holds');

  // Undo (the page's key) unmutes.
  await page.keyboard.press('Control+z');
  await page.locator('#modulators .mod-item:not(.muted)').waitFor();
  await page.screenshot({ path: artifact('modulation-3-list.png') });
  assert.deepEqual(errors, []);
});

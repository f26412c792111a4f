// Feature-map bending on the page, in a real Chromium against a real `netbend serve`: a bend added
// from a layer's row, its values played from its card (amount, channels, bypass), another added
// from the layer view where the tap shows it, the order changed and the ops removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, tempDir } from './helpers.ts';
import { artifact, dragBar, noChromium, servePage, untilValue } from './ui-helpers.ts';

test('bend a layer from its row and from the layer view; play, reorder and remove the ops', { skip: noChromium }, async (t) => {
  const { base, page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--presets', tempDir(t), '--fps', '10']);
  await page.click('#tab-model');
  const row = page.locator('.lrow[data-layer="G.synthesis.b16"]');
  await row.waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.lrow[data-layer="G.mapping.fc0"] .bend-add').isDisabled(), true, 'a [1, 512] vector cannot be bent');

  // From the layer's row: rotate on half the channels.
  await row.locator('.bend-add').click();
  const adder = page.locator('.lrow-adder .bend-adder[data-layer="G.synthesis.b16"]');
  await adder.locator('select').selectOption('rotate');
  await adder.locator('input.amount').fill('45');
  await adder.locator('input.channels').fill('share:0.5');
  await adder.locator('button[type="submit"]').click();
  const card = page.locator('#bends .bend[data-bend="b16-rotate"]');
  await card.waitFor({ timeout: 20_000 });
  assert.equal(await untilValue(base, '/netbend/bend/b16-rotate/amount', (v) => v === 45), 45);
  assert.equal(await untilValue(base, '/netbend/bend/b16-rotate/channels', (v) => v === 'share:0.5'), 'share:0.5');
  assert.match((await row.locator('.bend-add').getAttribute('class')) ?? '', /\bbent\b/, 'the row says the layer is bent');

  // Its card plays it: a drag moves the angle, the channels field and bypass are its parameters.
  await dragBar(page, '/netbend/bend/b16-rotate/amount', 0.2);
  const moved = await untilValue(base, '/netbend/bend/b16-rotate/amount', (v) => v !== 45);
  assert.ok(typeof moved === 'number' && moved > 45, `dragged right: ${moved}`);
  const channels = card.locator('.text-param[data-address="/netbend/bend/b16-rotate/channels"] input');
  await channels.fill('range:0-31');
  await channels.press('Enter');
  assert.equal(await untilValue(base, '/netbend/bend/b16-rotate/channels', (v) => v === 'range:0-31'), 'range:0-31');
  // A malformed selection is refused at the edge; the last good one stays.
  await channels.fill('share:7');
  await channels.press('Enter');
  await page
    .locator('.notice, .toast, [role="alert"]')
    .filter({ hasText: /expected all, share:<0\.\.1>/ })
    .first()
    .waitFor({ timeout: 10_000 });
  assert.equal(await untilValue(base, '/netbend/bend/b16-rotate/channels', (v) => v === 'range:0-31'), 'range:0-31');
  await card.locator('[data-address="/netbend/bend/b16-rotate/bypass"]').first().click();
  assert.equal(await untilValue(base, '/netbend/bend/b16-rotate/bypass', (v) => v === true), true);

  // From the layer view: the viewed layer gets its own strip; the tap draws the bent map.
  await row.locator('.lname').click();
  await page.click('#layer-bends .fold');
  await page.selectOption('#layer-bend-op', 'blur');
  await page.fill('#layer-bend-amount', '2');
  await page.click('#layer-bend-add');
  await page.locator('#layer-bends .bend[data-bend="b16-blur"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#layer-bends .bend').count(), 2, 'the strip lists the ops on this layer');
  await page.waitForFunction(() => (globalThis as { netbend?: { drawn?: { tap?: string } } }).netbend?.drawn?.tap === 'G.synthesis.b16', null, { timeout: 30_000 });
  await page.screenshot({ path: artifact('bend-layer-view.png') });

  // Order: blur moved before rotate, then both removed.
  await page.locator('#bends .bend[data-bend="b16-blur"] [aria-label="move b16-blur earlier"]').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#bends .bend')].map((b) => b.getAttribute('data-bend')).join() === 'b16-blur,b16-rotate', null, { timeout: 20_000 });
  await page.locator('#bends button', { hasText: 'clear' }).click();
  await page.locator('#bends .bend').first().waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await page.locator('.lrow[data-layer="G.synthesis.b16"] .bend-add.bent').count(), 0);
  assert.deepEqual(errors, []);
});

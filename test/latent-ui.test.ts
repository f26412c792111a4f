// The w-space block of the sources tab, in a real Chromium against a real `netbend serve`: the
// truncation, the mix and every principal direction with its layer range are on the page, and a
// value typed there is the engine's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, tempDir } from './helpers.ts';
import { noChromium, servePage, typeIntoBar, untilValue } from './ui-helpers.ts';

test('the sources tab shows w space: truncation, mix, each direction with its layer range, and direction sets saved and loaded by name', { skip: noChromium }, async (t) => {
  const presets = tempDir(t);
  const { base, page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--presets', presets, '--fps', '10']);
  await page.click('#tab-sources');
  await page.locator('#latent-panel').waitFor({ timeout: 30_000 });
  const directions = await page.locator('#latent-panel .direction').count();
  assert.ok(directions >= 1, `the directions are listed (${directions})`);
  for (const a of ['/netbend/latent/direction/0/amount', '/netbend/latent/direction/0/from', '/netbend/latent/direction/0/to', '/netbend/latent/mix/seed']) {
    assert.equal(await page.locator(`#latent-panel .bar[data-address="${a}"]`).count(), 1, `${a} has its control`);
  }
  await typeIntoBar(page, '/netbend/latent/truncation', '0.25');
  assert.equal(await untilValue(base, '/netbend/latent/truncation', (v) => v === 0.25), 0.25);
  await typeIntoBar(page, '/netbend/latent/direction/0/amount', '1.5');
  assert.equal(await untilValue(base, '/netbend/latent/direction/0/amount', (v) => v === 1.5), 1.5);
  // Direction sets: the set played saved under a name, listed, and loaded back.
  await page.fill('#direction-set-name', 'mine');
  await page.click('#direction-set-save');
  await page.locator('#direction-set-pick option[value="mine"]').waitFor({ state: 'attached', timeout: 60_000 });
  assert.ok(existsSync(join(presets, 'directions', 'mine.json')), 'saved beside the presets');
  await page.click('#direction-set-load');
  await page.locator('#direction-set-current', { hasText: 'playing: mine' }).waitFor({ timeout: 30_000 });
  await page.click('#directions-compute');
  await page.locator('#direction-set-current', { hasText: 'found from sampled z' }).waitFor({ timeout: 30_000 });
  assert.deepEqual(errors, []);
});

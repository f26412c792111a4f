// The control page as an instrument under the performer's hands, in a real Chromium: with the
// performance lock on, key 1 asks before it loads a preset that plays another model (declined:
// nothing changes; accepted: it loads) and Ctrl+Z brings the previous scene back; while paused, a
// change renders the held moment once (the picture changes, then holds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, tempDir } from './helpers.ts';
import { artifact, canvasStats, framesLater, noChromium, servePage, oscSend, untilValue } from './ui-helpers.ts';

const SEED = '/netbend/source/z/seed';

test('locked, key 1 asks before a preset that switches the model, and undo brings the scene back; paused, a change previews', { skip: noChromium }, async (t) => {
  const presets = tempDir(t);
  // A preset that plays another model (the -b twin), with a seed of its own.
  writeFileSync(
    join(presets, 'other.json'),
    JSON.stringify({ netbend: 'preset', version: 2, name: 'other', model: { path: fixture('stylegan2-64-tiny-b.onnx') }, params: { [SEED]: 42 }, edits: [], blend: {}, taps: [], modulators: [] }),
  );
  const { base, page, errors } = await servePage(t, fixture('stylegan2-64-tiny.onnx'), ['--presets', presets, '--fps', '10']);
  const dialogs: string[] = [];
  let accept = false;
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void (accept ? d.accept() : d.dismiss());
  });
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
  await page.locator('.preset[data-name="other"]').waitFor();
  await page.click('#lock');
  await untilValue(base, '/netbend/lock', (v) => v === true);

  await page.keyboard.press('1');
  await untilValueOf(() => dialogs.length === 1, 'the lock to ask');
  assert.match(dialogs[0]!, /load preset "other" \(it plays another model\)\?/);
  await framesLater(page, 2);
  assert.equal(await page.locator('.model-name').textContent(), 'stylegan2-64-tiny.onnx', 'declined: the model plays on');

  accept = true;
  await page.keyboard.press('1');
  await page.waitForFunction(() => document.querySelector('.model-name')?.textContent === 'stylegan2-64-tiny-b.onnx', null, { timeout: 60_000 });
  assert.equal(await untilValue(base, SEED, (v) => v === 42), 42);
  assert.equal(dialogs.length, 2);

  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => document.querySelector('.model-name')?.textContent === 'stylegan2-64-tiny.onnx', null, { timeout: 60_000 });
  assert.equal(await untilValue(base, SEED, (v) => v === 0), 0, 'undo: the scene before the preset');

  // Paused is a preview.
  await page.keyboard.press(' ');
  await untilValue(base, '/netbend/transport/play', (v) => v === false);
  // The last frame rendered before the pause is on screen once the page has drawn it.
  await page.waitForFunction(
    () => {
      const caption = document.querySelector('.output-pane .pane-caption .num')?.textContent ?? '';
      return document.querySelector('.output-pane .state')?.textContent === 'paused' && `frame ${(globalThis as any).netbend.drawn.output}` === caption;
    },
    null,
    { timeout: 20_000 },
  );
  const held = await canvasStats(page, '#output');
  await oscSend(base, SEED, 7);
  await untilValueOf(async () => (await canvasStats(page, '#output')).sum !== held.sum, 'the preview of the new seed');
  assert.equal(await page.locator('.output-pane .state').textContent(), 'paused', 'still paused');
  await page.screenshot({ path: artifact('lock-keys-paused-preview.png') });
  assert.deepEqual(errors, []);
});

async function untilValueOf(ok: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

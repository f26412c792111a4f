// A model the machine cannot play at its target rate: the page says so in place, with the cause
// (provider, inference time) and what would help; drops are counted per minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from './helpers.ts';
import { slowGuidance } from '../app/server/slow-guidance.ts';
import { artifact, noChromium, servePage } from './ui-helpers.ts';

test('guidance names the provider, the inference time and a target the model can hold', () => {
  const s = slowGuidance({ fps: 4, targetFps: 30, inferMs: 240, ep: 'cpu', playing: true })!;
  assert.match(s.text, /4\.0 of 30 fps/);
  assert.match(s.text, /240 ms a frame on cpu/);
  assert.ok(s.remedies.some((r) => r.includes('--ep webgpu')));
  assert.ok(s.remedies.some((r) => r.includes(`${Math.floor(1000 / 240)} fps`)));
  assert.equal(slowGuidance({ fps: 16, targetFps: 30, inferMs: 50, ep: 'cpu', playing: true }), null, 'over half the target: not slow');
  assert.equal(slowGuidance({ fps: 4, targetFps: 30, inferMs: 240, ep: 'cpu', playing: false }), null, 'paused: not slow');
  assert.ok(!slowGuidance({ fps: 4, targetFps: 30, inferMs: 240, ep: 'webgpu', playing: true })!.remedies.some((r) => r.includes('--ep webgpu')), 'no GPU advice on a GPU');
});

test('the control page says why a slow model is slow, above the pictures, and counts drops per minute', { skip: noChromium }, async (t) => {
  // Far beyond what this model can do on a CPU here (it renders in tens of ms).
  const { page } = await servePage(t, fixture('stylegan2-256-slim.onnx'), ['--fps', '240']);
  const banner = page.locator('#slow');
  await banner.waitFor({ timeout: 30_000 });
  const text = (await banner.textContent()) ?? '';
  assert.match(text, /of 240 fps: inference takes \d+ ms a frame on cpu/);
  assert.match(text, /--ep webgpu/);
  await page.screenshot({ path: artifact('slow-show.png') });
  // The banner sits above the pictures, not over them or any control.
  const b = (await banner.boundingBox())!;
  const out = (await page.locator('.panes').boundingBox())!;
  assert.ok(b.y + b.height <= out.y + 1, 'above the panes');
  assert.match((await page.locator('#stat-dropped').textContent()) ?? '', /drop\/min/);
});

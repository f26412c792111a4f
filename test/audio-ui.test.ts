// The audio tab in a real Chromium against a real `netbend serve`: Chromium's fake capture device
// plays a generated wav (a 60 Hz sine under clicks at 120 bpm, made by ffmpeg's lavfi), the page
// captures it (getUserMedia -> AudioWorklet -> binary PCM on /ws), /netbend/audio/low rises for the
// sine, onsets arrive for the clicks, the latency readout shows a number, and "map" from the onset
// meter drives a knob live (it swings with the clicks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixture, tempDir } from './helpers.ts';
import { noChromium, servePage, untilValue } from './ui-helpers.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const KNOB = '/netbend/knobs/k1';

test('capture a fake input from the audio tab: low rises, onsets arrive, latency shows, map drives a knob', { skip: noChromium, timeout: 180_000 }, async (t) => {
  const wav = join(tempDir(t), 'sine-clicks.wav');
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*60*t)+0.9*lt(mod(t\\,0.5)\\,0.003):s=48000:d=20', '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  assert.equal(ff.status, 0, String(ff.stderr));
  const { base, page, errors } = await servePage(t, MODEL, ['--presets', tempDir(t)], {
    chromiumArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
  });
  await page.click('#tab-audio');
  await page.click('#audio-start');
  await page.locator('#audio-stop').waitFor({ timeout: 20_000 });
  assert.equal(await untilValue(base, '/netbend/audio/capturing', (v) => v === true), true);

  const low = Number(await untilValue(base, '/netbend/audio/low', (v) => Number(v) > 0.2, 20_000));
  assert.ok(low > 0.2, `low ${low} for a 0.5 sine at 60 Hz (0.35 expected)`);
  const onset = Number(await untilValue(base, '/netbend/audio/onset', (v) => Number(v) > 0.5, 10_000));
  assert.ok(onset > 0.5, `onset ${onset}: the clicks were not found`);
  // The meters on the page show the same values; the latency readout is a number.
  await page.locator('.audio-meter[data-feature="low"]').waitFor({ timeout: 10_000 });
  await page.waitForFunction(() => Number(document.querySelector('.audio-meter[data-feature="low"]')?.getAttribute('data-value')) > 0.2, null, { timeout: 10_000 });
  await page.waitForFunction(() => /^\d+(\.\d)?$/.test(document.querySelector('#audio-latency')?.textContent ?? ''), null, { timeout: 10_000 });
  const latency = Number(await page.locator('#audio-latency').textContent());
  const pageMs = await page.evaluate(() => (globalThis as unknown as { netbend: { audio: { pageMs: number } } }).netbend.audio.pageMs);
  assert.ok(latency >= pageMs * 0.5 && latency < 500, `latency ${latency} ms (the page's share ${pageMs} ms)`);

  // Map the onset to a knob: it swings up on each click and back down between them.
  await page.click('.audio-meter[data-feature="onset"] .audio-map-btn');
  await page.selectOption('.audio-map[data-feature="onset"] .audio-map-target', KNOB);
  await page.fill('.audio-map[data-feature="onset"] .audio-map-depth', '0.8');
  await page.click('.audio-map[data-feature="onset"] .audio-map-add');
  const up = Number(await untilValue(base, KNOB, (v) => Number(v) > 0.4, 10_000));
  assert.ok(up > 0.4, `the knob rose to ${up} on a click`);
  const down = Number(await untilValue(base, KNOB, (v) => Number(v) < 0.1, 10_000));
  assert.ok(down < 0.1, `the knob fell back to ${down} between clicks`);
  const up2 = Number(await untilValue(base, KNOB, (v) => Number(v) > 0.4, 10_000));
  assert.ok(up2 > 0.4, `and rose again (${up2})`);

  await page.click('#audio-stop');
  assert.equal(await untilValue(base, '/netbend/audio/capturing', (v) => v === false), false);
  console.log(`audio ui: low ${low.toFixed(3)}, latency readout ${latency} ms (the page's share ${pageMs.toFixed(1)} ms)`);
  assert.deepEqual(errors, []);
});

// The sketch pad: strokes drawn in a real Chromium feed an image-to-image test model live (the
// picture changes), the input's sketch switch turns on, the grey grid a regression net can take
// follows the drawing; a hostile sketch (a PNG that claims to be huge, junk) is refused unread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { tempDir } from './helpers.ts';
import { artifact, canvasStats, framesLater, noChromium, servePage, oscValue, untilValue } from './ui-helpers.ts';
import { makeUnet } from './models/make-test-models.ts';
import { decodeSketchPng } from '../app/server/sketch-png.ts';

test('a sketch PNG is checked before it is decoded', () => {
  const png = new PNG({ width: 4, height: 4 });
  png.data.fill(255);
  const good = PNG.sync.write(png);
  assert.equal(decodeSketchPng(good.toString('base64')).width, 4);
  const huge = Buffer.from(good);
  huge.writeUInt32BE(100_000, 16); // IHDR width
  assert.throws(() => decodeSketchPng(huge.toString('base64')), /1 to 2048 pixels a side \(this one says 100000x4\)/);
  assert.throws(() => decodeSketchPng(Buffer.from('not a png at all, not at all').toString('base64')), /a sketch is a PNG picture/);
  const broken = Buffer.from(good.subarray(0, 40));
  assert.throws(() => decodeSketchPng(broken.toString('base64')), /broken sketch PNG/);
});

test('strokes on the sketch pad change the picture of an image-to-image model', { skip: noChromium }, async (t) => {
  const dir = tempDir(t);
  const unet = join(dir, 'unet.onnx');
  makeUnet(unet);
  const { base, page, errors } = await servePage(t, unet, ['--presets', dir, '--fps', '10']);
  await page.waitForFunction(() => (globalThis as any).netbend?.drawn.output >= 0, null, { timeout: 20_000 });
  await page.click('#tab-sources');
  const pad = page.locator('[data-sketch="image"] canvas');
  await pad.waitFor();
  // The noise texture plays until the first stroke; hold it still to compare.
  await framesLater(page, 2);
  const before = await canvasStats(page, '#output');
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const stroke = async (x0: number, y0: number, x1: number, y1: number) => {
    await page.mouse.move(box.x + box.width * x0, box.y + box.height * y0);
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) await page.mouse.move(box.x + box.width * (x0 + ((x1 - x0) * k) / 8), box.y + box.height * (y0 + ((y1 - y0) * k) / 8));
    await page.mouse.up();
  };
  await stroke(0.1, 0.2, 0.9, 0.8);
  await stroke(0.2, 0.9, 0.8, 0.1);
  assert.equal(await untilValue(base, '/netbend/source/image/sketch', (v) => v === true), true, 'the first stroke switched the sketch on');
  // The grey grid follows the drawing: some cells lit, not all.
  await untilValue(base, '/netbend/sketch/image/9', (v) => Number(v) > 0.1);
  assert.ok(Number(await oscValue(base, '/netbend/sketch/image/7')) < 0.05, 'a corner the strokes missed stays dark');
  await framesLater(page, 3);
  const drawn = await canvasStats(page, '#output');
  assert.notEqual(drawn.sum, before.sum, 'the picture follows the sketch');
  await framesLater(page, 3);
  assert.equal((await canvasStats(page, '#output')).sum, drawn.sum, 'and holds still with it (the sketch does not move)');
  await page.screenshot({ path: artifact('sketch-1.png') });
  // Clear: the picture of an empty sketch, and the grid goes dark.
  await page.click('[data-sketch="image"] [data-sketch-clear]');
  await untilValue(base, '/netbend/sketch/image/9', (v) => Number(v) === 0);
  await framesLater(page, 3);
  assert.notEqual((await canvasStats(page, '#output')).sum, drawn.sum, 'cleared, the picture changed again');
  assert.deepEqual(errors, []);
});

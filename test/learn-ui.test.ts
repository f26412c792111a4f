// Live learning on the page, in a real Chromium against a real `netbend serve`: inputs and targets
// picked from the parameters, examples recorded by click and by hold (OSC feeding the values over
// UDP), one deleted, a mapping trained with its validation error shown, played (the knobs drive
// the target), stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';
import { artifact, framesLater, noChromium, servePage, oscSend, oscValue, untilValue } from './ui-helpers.ts';
import { LEARN_EXAMPLES, LEARN_RECORDING } from '../app/core/addresses.ts';

const AMP = '/netbend/source/z/amplitude';

test('pick inputs and targets, record, hold, delete, train, see the error, play and stop', { skip: noChromium }, async (t) => {
  const { base, page, errors } = await servePage(t, join(ROOT, 'models', 'default.onnx'), ['--presets', tempDir(t), '--fps', '30']);
  await page.click('#tab-learn');
  await page.locator('#learn-panel').waitFor({ timeout: 30_000 });
  const countIs = (n: number) => page.waitForFunction((k) => Number(document.querySelector('#learn-count')?.textContent) === k, n, { timeout: 20_000 });

  // Two knobs in, the amplitude out.
  for (const k of ['k1', 'k2']) {
    await page.selectOption('#learn-inputs-pick', `/netbend/knobs/${k}`);
    await page.click('#learn-inputs-add');
    await page.locator(`#learn-inputs .lc-chip[data-address="/netbend/knobs/${k}"]`).waitFor({ timeout: 20_000 });
  }
  await page.selectOption('#learn-targets-pick', AMP);
  await page.click('#learn-targets-add');
  await page.locator(`#learn-targets .lc-chip[data-address="${AMP}"]`).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#learn-targets-pick option[value="/netbend/learn/examples"]').count(), 0, 'read-only values are no targets');

  // One example per click, the values fed over OSC.
  const points: Array<[number, number, number]> = [
    [0.1, 0.1, 0.5],
    [0.9, 0.1, 2],
    [0.1, 0.9, 1],
    [0.9, 0.9, 2.5],
    [0.5, 0.5, 1.5],
    [0.3, 0.7, 0.75],
  ];
  const feed = async ([k1, k2, amp]: [number, number, number]) => {
    await oscSend(base, '/netbend/knobs/k1', k1);
    await oscSend(base, '/netbend/knobs/k2', k2);
    await oscSend(base, AMP, amp);
    for (const [a, v] of [
      ['/netbend/knobs/k1', k1],
      ['/netbend/knobs/k2', k2],
      [AMP, amp],
    ] as const)
      assert.ok(Math.abs(Number(await untilValue(base, a, (x) => Math.abs(Number(x) - v) < 1e-6)) - v) < 1e-6, `${a} = ${v}`);
  };
  for (const [i, p] of points.entries()) {
    await feed(p);
    await page.click('#learn-record');
    await countIs(i + 1);
  }
  assert.equal(await page.locator('#learn-list .learn-example').count(), points.length);
  // The columns hold while there are examples.
  assert.equal(await page.locator('#learn-inputs-add').isDisabled(), true);

  // Held: one a frame while the button is down, off when it is let go.
  const box = (await page.locator('#learn-hold').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForFunction((k) => Number(document.querySelector('#learn-count')?.textContent) >= k, points.length + 3, { timeout: 20_000 });
  await page.mouse.up();
  assert.equal(await untilValue(base, LEARN_RECORDING, (v) => v === false), false, 'let go: recording stops');
  // The page's count may still be a frame behind the desk's: take the desk's, once the page shows it.
  const held = Number(await oscValue(base, LEARN_EXAMPLES));
  await countIs(held);
  assert.ok(held >= points.length + 3);
  // The held examples deleted one by one, the newest first.
  for (let n = held; n > points.length; n--) {
    await page.locator(`.learn-example[data-index="${n - 1}"] button.remove`).click();
    await countIs(n - 1);
  }

  // Trained: the card with its validation error.
  await page.selectOption('#learn-kind', 'knn');
  await page.click('#learn-train');
  await page.locator('#learn-card #learn-rmse').waitFor({ timeout: 60_000 });
  const rmse = Number(await page.locator('#learn-rmse').textContent());
  assert.ok(Number.isFinite(rmse) && rmse >= 0, `validation error shown: ${rmse}`);
  assert.equal(Number(await untilValue(base, '/netbend/learn/rmse', (v) => Number(v) === rmse || Math.abs(Number(v) - rmse) < rmse * 0.01 + 1e-9)).toPrecision(3), rmse.toPrecision(3));

  // Played: the knobs at a recorded point bring its amplitude back.
  await page.click('#learn-play');
  await page.locator('#learn-stop').waitFor({ timeout: 30_000 });
  await oscSend(base, AMP, 0);
  for (const [k1, k2, amp] of [points[1]!, points[2]!]) {
    await oscSend(base, '/netbend/knobs/k1', k1);
    await oscSend(base, '/netbend/knobs/k2', k2);
    const got = Number(await untilValue(base, AMP, (v) => Math.abs(Number(v) - amp) < 1e-3, 20_000));
    assert.ok(Math.abs(got - amp) < 1e-3, `knobs at ${k1}, ${k2}: amplitude ${got}, recorded ${amp}`);
  }
  assert.equal(await page.locator('#learn-record').isDisabled(), true, 'no recording while the mapping drives the targets');
  await page.screenshot({ path: artifact('learn-panel.png') });

  // Stopped: the knobs drive nothing.
  await page.click('#learn-stop');
  await page.locator('#learn-play').waitFor({ timeout: 20_000 });
  const before = Number(await untilValue(base, AMP, () => true));
  await oscSend(base, '/netbend/knobs/k1', points[3]![0]);
  await oscSend(base, '/netbend/knobs/k2', points[3]![1]);
  await untilValue(base, '/netbend/knobs/k2', (v) => v === points[3]![1]);
  await framesLater(page, 3);
  assert.equal(Number(await untilValue(base, AMP, () => true)), before, 'stopped: the amplitude stays');
  assert.deepEqual(errors, []);
});

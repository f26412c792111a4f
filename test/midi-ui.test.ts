// MIDI on the control page, in a real Chromium against shows built in this process (so a test can
// be the MIDI controller): the status with the system's own MIDI (on a machine without an ALSA
// sequencer, "no MIDI available" and why, and learn refused at once), then a show whose MIDI port
// loops back in memory: learn's instruction, its timeout and Esc, a control learned from real MIDI
// bytes, its range, invert, curve and takeover edited in the mappings list and checked by sending
// bytes, its removal and the undo that brings it back. Screenshots go to test/artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, tempDir, until } from './helpers.ts';
import { artifact, noChromium, suiteBrowser } from './ui-helpers.ts';
import { LoopbackMidi } from './loopback-ports.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { startServer } from '../app/server/http-server.ts';
import { LiveClock } from '../app/engine/clock.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { listMidiPorts, openMidi } from '../app/io/midi-ports.ts';
import type { OpenMidi } from '../app/server/show-ports.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const AMP = '/netbend/source/z/amplitude'; // 0..3
const skip = noChromium;
const browser = suiteBrowser();

const shot = (page: Page, name: string) => page.screenshot({ path: artifact(`midi-${name}.png`) });

/** A live show with the given MIDI port, served on a free port, and a page on it. */
async function served(t: { after(fn: () => unknown): void }, midi: OpenMidi, learnSeconds = 10) {
  const dir = tempDir(t);
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', midiLearnSeconds: learnSeconds },
    { clock: new LiveClock(10), osc: undefined, midi, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  const server = await startServer({ session, port: 0 });
  const page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => {
    await page.close();
    await server.close();
    await session.close();
    assert.deepEqual(errors, [], 'no errors on the page');
  });
  await page.goto(server.url);
  await page.locator('#tab-midi').waitFor();
  return { session, page };
}

/** The MIDI learn button beside a parameter's control. */
const learnButton = (page: Page, address: string) => page.locator('.prow-main', { has: page.locator(`[data-address="${address}"]`) }).locator('button.learn');
/** The value the page shows for a parameter (whatever tab is open). */
const shown = (page: Page, address: string) => page.evaluate((a) => (globalThis as unknown as { netbend: { value(a: string): unknown } }).netbend.value(a), address);

test('with the system MIDI: the status says what was opened, or that there is no MIDI and why; learn says so at once', { skip }, async (t) => {
  const { page } = await served(t, (receive) => openMidi(receive, { virtualName: 'netbend' }));
  const system = listMidiPorts();
  await page.click('#tab-midi');
  const status = page.locator('#midi-status');
  await status.waitFor();
  if (system.available) {
    assert.match((await status.textContent()) ?? '', /MIDI on/);
    return;
  }
  const why = system.reason!.replace(/^MIDI unavailable: /, '');
  assert.equal(await status.locator('.midi-status-head').textContent(), ' no MIDI available');
  assert.equal(await status.locator('.midi-reason').textContent(), why, 'the reason, in one line, saying what still works');
  assert.match(why, /MIDI mappings still load and OSC works/);
  assert.match((await page.locator('#midi-badge').getAttribute('title')) ?? '', new RegExp(`^no MIDI available: ${why.replace(/[()/]/g, '\\$&')}`));
  assert.equal(await page.locator('#midi-learn-start').isDisabled(), true, "the panel's learn is off, saying why");
  await shot(page, '1-no-midi');
  // A slider's learn button is answered at once: no waiting for a controller that cannot be heard.
  await page.click('#tab-sources');
  await learnButton(page, AMP).click();
  const refusal = page.locator('.notice.error', { hasText: 'MIDI learn: no MIDI input to listen to' });
  await refusal.waitFor({ timeout: 5000 });
  assert.equal(await refusal.textContent(), `MIDI learn: no MIDI input to listen to: ${system.reason}`);
  assert.equal(await page.locator('#midi-learn').count(), 0, 'no instruction to wait for');
  assert.equal(await learnButton(page, AMP).getAttribute('aria-pressed'), 'false');
  await shot(page, '2-learn-refused');
});

test('learn (instruction, timeout, Esc, learned from bytes), then edit, remove and undo a mapping in the list, driven by real MIDI bytes', { skip, timeout: 180_000 }, async (t) => {
  const loop = new LoopbackMidi();
  const { session, page } = await served(t, loop.open, 3);
  await page.click('#tab-midi');
  const status = page.locator('#midi-status');
  await status.waitFor();
  assert.match((await status.textContent()) ?? '', /MIDI on.*in loopback.*out loopback/);
  assert.match((await page.locator('#midi-badge').getAttribute('title')) ?? '', /^MIDI in: loopback · out: loopback/);

  // Learn from a slider: the instruction, then it gives up by itself.
  await page.click('#tab-sources');
  await learnButton(page, AMP).click();
  const banner = page.locator('#midi-learn');
  await page.locator('#midi-learn.waiting').waitFor({ timeout: 5000 });
  assert.equal(await banner.locator('.ml-text').textContent(), 'move a knob or press a key on your controller to map it to z amplitude; Esc cancels');
  assert.match((await banner.locator('.ml-left').textContent()) ?? '', /^[0-3] s$/);
  assert.equal(await learnButton(page, AMP).getAttribute('aria-pressed'), 'true');
  await shot(page, '3-learn-waiting');
  await page.locator('#midi-learn.timeout').waitFor({ timeout: 10_000 });
  assert.equal(await banner.textContent(), 'MIDI learn timed out: no control moved in 3 s, nothing was mapped to z amplitude');
  await page.locator('.notice.warning', { hasText: `MIDI learn for ${AMP}: no control moved in 3 s; cancelled` }).waitFor();
  assert.equal(session.midi.learning, undefined);
  await shot(page, '4-learn-timeout');

  // Learn from the panel, and Esc cancels it.
  await page.click('#tab-midi');
  await page.selectOption('#midi-learn-param', AMP);
  await page.click('#midi-learn-start');
  await page.locator('#midi-learn.waiting').waitFor({ timeout: 5000 });
  await page.keyboard.press('Escape');
  await page.locator('#midi-learn.cancelled').waitFor({ timeout: 5000 });
  assert.equal(session.midi.learning, undefined);
  assert.deepEqual(session.midi.list(), []);

  // Learn again; the test is the controller: a knob (CC 21 on channel 1) turns.
  await page.click('#midi-learn-start');
  await until(() => session.midi.learning === AMP, 'learn to be armed', 5000);
  loop.play([0xb0, 21, 64]);
  await page.locator('#midi-learn.learned').waitFor({ timeout: 5000 });
  assert.equal(await banner.textContent(), 'learned: CC 21 · ch 1 → z amplitude (it takes over once it meets the value)');
  const row = page.locator('.midi-map[data-id="midi1"]');
  await row.waitFor();
  assert.equal(await row.locator('.mm-control').textContent(), 'CC 21 · ch 1');
  assert.equal(await row.locator('.mm-param').textContent(), 'z amplitude');
  assert.equal(await row.locator('.mm-takeover [aria-checked="true"]').textContent(), 'pickup', 'learned mappings pick up');
  assert.deepEqual([await row.locator('.mm-min').inputValue(), await row.locator('.mm-max').inputValue()], ['0', '3'], "the parameter's own range");
  await shot(page, '5-learned');

  // Edit it in the list: each edit reaches the mapping in the show.
  const mapping = () => session.midi.get('midi1');
  await row.locator('.mm-takeover button[data-value="jump"]').click();
  await until(() => mapping()?.takeover === 'jump', 'takeover: jump');
  await row.locator('.mm-min').fill('0.5');
  await row.locator('.mm-min').press('Enter');
  await until(() => mapping()?.min === 0.5, 'min 0.5');
  await row.locator('.mm-max').fill('1.5');
  await row.locator('.mm-max').press('Tab');
  await until(() => mapping()?.max === 1.5, 'max 1.5');
  await row.locator('.mm-invert').click();
  await until(() => mapping()?.invert === true, 'invert');
  await row.locator('.mm-curve button[data-value="exp"]').click();
  await until(() => mapping()?.curve === 'exp', 'curve exp');
  assert.deepEqual(mapping(), { id: 'midi1', param: AMP, kind: 'cc', channel: 0, number: 21, min: 0.5, max: 1.5, curve: 'exp', invert: true, takeover: 'jump' });
  assert.equal(await row.locator('.mm-invert').getAttribute('aria-checked'), 'true');
  await shot(page, '6-edited');

  // The knob drives the parameter through the edited mapping, and the page shows it.
  const turn = async (v: number, want: number) => {
    loop.play([0xb0, 21, v]);
    assert.ok(Math.abs(session.params.number(AMP) - want) < 1e-9, `CC ${v}: ${session.params.number(AMP)} != ${want}`);
    await page.waitForFunction(
      ([a, w]) => Math.abs(Number((globalThis as unknown as { netbend: { value(a: string): unknown } }).netbend.value(a as string)) - (w as number)) < 1e-6,
      [AMP, want] as const,
      { timeout: 5000 },
    );
  };
  await turn(127, 0.5); // inverted: the top of the travel is the bottom of the range
  await turn(0, 1.5);
  await turn(64, 0.5 + (1 - 64 / 127) ** 2); // exp: fine at the bottom (of the inverted travel)

  // Remove it: the knob drives nothing; undo brings it back, edits and all.
  await row.locator('.mm-remove').click();
  await row.waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(session.midi.list(), []);
  assert.equal(await page.locator('#midi-mappings .hint').textContent(), 'no mappings yet: learn one, or load a preset that has some');
  const held = session.params.number(AMP);
  loop.play([0xb0, 21, 127]);
  assert.equal(session.params.number(AMP), held, 'removed: the knob drives nothing');
  assert.equal(await shown(page, AMP), held);
  await shot(page, '7-removed');
  await page.click('#undo');
  await row.waitFor({ timeout: 5000 });
  assert.deepEqual(mapping(), { id: 'midi1', param: AMP, kind: 'cc', channel: 0, number: 21, min: 0.5, max: 1.5, curve: 'exp', invert: true, takeover: 'jump' });
  assert.deepEqual([await row.locator('.mm-min').inputValue(), await row.locator('.mm-max').inputValue()], ['0.5', '1.5']);
  assert.equal(await row.locator('.mm-curve [aria-checked="true"]').textContent(), 'exp');
  await turn(127, 0.5);
  await turn(0, 1.5);
  await shot(page, '8-undone');
});

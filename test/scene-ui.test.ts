// One show driven two ways must end up the same show. Two real `netbend serve` processes play the
// same fixture: show A is driven over OSC only (UDP, no page open), show B through its page in
// Chromium, by its controls (fields, buttons, the layer tree, Ctrl+Z). The same moves on both: lock,
// a model switch, a partner, three edits (one named, two with derived names), a tapped layer, a
// morph to a preset; then every step undone. After each step and each undo both shows are compared
// over OSCQuery (every value but the read-only, transport, blackout and record ones, and every
// address, so edit slots and their remove actions too) and by what a page is told (model, partner,
// edit slots, taps). Pictures: both shows run on their own clocks, so live frames are not
// comparable; instead each show saves its scene as a preset and `netbend play` renders both
// offline, and the PNGs must be the same bytes.
//
// Values are chosen exactly representable in float32: OSC sends ,f (float32), the page JSON
// (float64), so 1.3 would arrive as 1.2999999523 over OSC and 1.3 from the page. That is the wire,
// not the scene, so the test does not compare it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { cli, FIXTURES, fixture, startServe, tempDir } from './helpers.ts';
import { blurAll, launch, noChromium } from './ui-helpers.ts';
import { OSC } from '../app/io/osc-server.ts';
import { PRESET_VERSION } from '../app/control/preset.ts';

const skip = noChromium;
let browser: Browser;
before(async () => {
  if (!skip) browser = await launch();
});
after(async () => browser?.close());

const MODEL = 'stylegan2-64-tiny.onnx';
const OTHER = 'stylegan2-64-tiny-b.onnx';
const AMPLITUDE = '/netbend/source/z/amplitude';
const SEED = '/netbend/source/z/seed';
const BLEND_ALL = '/netbend/blend/all';
const LOCK = '/netbend/lock';
const TAPPED = 'G.synthesis.b16';

/** Values that are not the scene: read-only stats and outputs, the transport, blackout, recording. */
const NOT_SCENE = ['/netbend/stats/', '/netbend/outputs/', '/netbend/transport/', '/netbend/output/blackout', '/netbend/record/'];

interface Snapshot {
  /** Every writable value OSCQuery lists, but NOT_SCENE. */
  values: Record<string, unknown>;
  /** Every address OSCQuery lists (edit slots, their remove actions, blend layers...). */
  addresses: string[];
  /** What a page is told at hello. */
  model: string;
  partner: string | null;
  edits: Array<{ name: string; target: string; op: string }>;
  taps: string[];
  presets: string[];
}

interface OscNode {
  FULL_PATH: string;
  ACCESS?: number;
  VALUE?: unknown[];
  CONTENTS?: Record<string, OscNode>;
}

async function oscQuery(base: string): Promise<Pick<Snapshot, 'values' | 'addresses'>> {
  const res = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200);
  const values: Record<string, unknown> = {};
  const addresses: string[] = [];
  const walk = (n: OscNode) => {
    for (const c of Object.values(n.CONTENTS ?? {})) {
      addresses.push(c.FULL_PATH);
      // ACCESS 1 = read only.
      if (c.VALUE && c.ACCESS !== 1 && !NOT_SCENE.some((p) => c.FULL_PATH.startsWith(p))) values[c.FULL_PATH] = c.VALUE[0];
      walk(c);
    }
  };
  walk((await res.json()) as OscNode);
  return { values, addresses: addresses.sort() };
}

/** What the show tells a page that connects: a plain WebSocket client, closed after the hello. */
function hello(base: string): Promise<Pick<Snapshot, 'model' | 'partner' | 'edits' | 'taps' | 'presets'>> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`);
    const timer = setTimeout(() => (ws.terminate(), fail(new Error(`no hello from ${base}`))), 10_000);
    ws.on('error', fail);
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(String(data)) as { type: string } & Record<string, unknown>;
      if (m.type !== 'hello') return;
      clearTimeout(timer);
      ws.close();
      const edits = (m.edits as Snapshot['edits']).map(({ name, target, op }) => ({ name, target, op }));
      ok({ model: m.model as string, partner: m.partner as string | null, edits, taps: m.taps as string[], presets: m.presets as string[] });
    });
  });
}

const snapshot = async (base: string): Promise<Snapshot> => {
  const h = await hello(base);
  return { ...(await oscQuery(base)), ...h };
};

/**
 * Polls both shows until `ready` holds for each and they agree, or fails at the deadline with what
 * differed. Polled, not compared once: a show's hello and its OSCQuery answer are two requests, and
 * the two shows finish a move at different moments; a settled difference still fails.
 */
async function same(what: string, a: string, b: string, ready: (s: Snapshot) => boolean, timeout = 30_000, o: { pageTapsDiffer?: boolean } = {}): Promise<Snapshot> {
  waitingFor = what;
  const end = Date.now() + timeout;
  // A page's layer view is a tap of that page, not of the scene: where a move changes the scene's
  // taps, the page's view stays and the engines' taps differ by it (checked by the caller).
  const view = async (base: string) => {
    const s = await snapshot(base);
    return o.pageTapsDiffer ? { ...s, taps: [] } : s;
  };
  for (;;) {
    const [sa, sb] = [await view(a), await view(b)];
    const agree = ready(sa) && ready(sb) && isDeepStrictEqual(sa, sb);
    if (agree) return sa;
    if (Date.now() > end) {
      if (!(ready(sa) && ready(sb)))
        assert.fail(`${what}: timed out waiting for both shows (A over OSC ready: ${ready(sa)}, B through the page ready: ${ready(sb)})\nA: ${JSON.stringify(sa)}\nB: ${JSON.stringify(sb)}`);
      assert.deepEqual(sb, sa, `${what}: the show driven through the page (B) differs from the one driven over OSC (A)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The step being waited for: the shows' logs are labelled with it. */
let waitingFor = 'start';

async function until(what: string, cond: () => Promise<boolean>, timeout = 30_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const near = (v: unknown, x: number) => typeof v === 'number' && Math.abs(v - x) < 1e-6;
const base = (p: string | null) => p?.split('/').pop() ?? null;

test('the same moves over OSC and through the page make the same show, step by step and undone', { skip, timeout: 600_000 }, async (t) => {
  const dir = tempDir(t, 'netbend-scene-ui-');
  const presetsA = join(dir, 'presets-a');
  const presetsB = join(dir, 'presets-b');
  // One preset for the model the shows switch to: other values, one edit kept by name (other
  // amount), one new edit, a partner blend and a discrete value (lands at the end of the glide).
  const preset = {
    netbend: 'preset',
    version: PRESET_VERSION,
    name: 'morph',
    // Real paths: the model folders resolve names to real paths (the fixtures folder may be a
    // symlink), and the scene takes a preset naming the same file by another path for another
    // model (it would switch the model again, and OSC would be refused it while locked).
    model: { path: realpathSync(fixture(OTHER)) },
    partner: { path: realpathSync(fixture(MODEL)) },
    params: { [AMPLITUDE]: 1.75, '/netbend/source/z/speed': 0.25, [SEED]: 3 },
    edits: [
      { name: 'warp', target: 'G.synthesis.b16', op: 'scale', amount: 0.75 },
      { target: 'G.synthesis.b64', op: 'offset', amount: 0.0625 },
    ],
    blend: { all: 0.5, 'G.synthesis.b32': 0.25 },
    taps: [],
  };
  for (const d of [presetsA, presetsB]) {
    mkdirSync(d);
    writeFileSync(join(d, 'morph.json'), JSON.stringify(preset, null, 2));
  }
  const args = (presets: string) => ['--models', FIXTURES, '--presets', presets, '--fps', '10'];
  const [showA, showB] = await Promise.all([startServe(fixture(MODEL), args(presetsA)), startServe(fixture(MODEL), args(presetsB))]);
  t.after(() => Promise.all([showA.stop(), showB.stop()]));
  const a = showA.url.replace(/\/$/, '');
  const b = showB.url.replace(/\/$/, '');
  const logs = { a: '', b: '' };
  const label = (d: Buffer) => String(d).replace(/^(?=.)/gm, `[${waitingFor}] `);
  showA.child.stderr!.on('data', (d: Buffer) => (logs.a += label(d)));
  showB.child.stderr!.on('data', (d: Buffer) => (logs.b += label(d)));
  /** What the page sent and was answered (no frame acks), for a failure's report. */
  const sent: string[] = [];
  try {
    await steps();
    // Undoing the preset that loaded a partner with its blends once failed the frames in between
    // ("input 'netbend_blend:<weight>' is missing in 'feeds'"): every frame must render.
    for (const [name, log] of Object.entries(logs)) {
      const errorLines = log.split('\n').filter((l) => /netbend: error:/.test(l));
      assert.deepEqual(errorLines, [], `show ${name} reported no error`);
      assert.deepEqual(errorLines, [], `show ${name} renders every frame while a partner goes`);
    }
  } catch (err) {
    console.error(`show A said:\n${logs.a}\nshow B said:\n${logs.b}\nthe page sent (>) and was told (<):\n${sent.join('\n')}`);
    throw err;
  }

  async function steps(): Promise<void> {
    // Show A: OSC over UDP, to the port its OSCQuery HOST_INFO names.
    const info = (await (await fetch(`${a}/?HOST_INFO`, { headers: { accept: 'application/json' } })).json()) as { OSC_PORT: number };
    const udp = dgram.createSocket('udp4');
    t.after(() => udp.close());
    const osc = (address: string, types = '', ...oscArgs: Array<number | string | boolean>) => {
      const m = new OSC.Message(address);
      [m.types, m.args] = [types, oscArgs];
      return new Promise<void>((ok, fail) => udp.send(Buffer.from(m.pack()), info.OSC_PORT, '127.0.0.1', (err) => (err ? fail(err) : ok())));
    };

    // Show B: its page.
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => typeof f.payload === 'string' && !f.payload.startsWith('{"ack"') && sent.push(`> ${f.payload}`));
      ws.on('framereceived', (f) => typeof f.payload === 'string' && /"reply"|"notice"/.test(f.payload) && sent.push(`< ${f.payload.slice(0, 200)}`));
    });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(showB.url);
    await page.waitForFunction(() => ((globalThis as { netbend?: { drawn: { output: number } } }).netbend?.drawn.output ?? -1) >= 0, null, { timeout: 30_000 });
    const ui = {
      model: () => page.click('#tab-model'),
      undo: async () => {
        await blurAll(page);
        await page.keyboard.press('Control+z');
      },
    };
    await ui.model();
    const start = await same('at the start', a, b, (s) => s.model.endsWith(MODEL));
    assert.equal(start.edits.length, 0);
    // Each undo must land where the show was before the step: kept here, in order (the state after
    // each step but the last of a run, which is undone first).
    const before: Snapshot[] = [start];
    const done = (s: Snapshot) => before.push(s);

    // 1. Another model, by its name in the model folders.
    await osc('/netbend/model/load', 's', OTHER);
    await page.fill('#model-file', OTHER);
    await page.click('#model-load');
    done(await same('model switched', a, b, (s) => s.model.endsWith(OTHER)));

    // 2. A partner (the first model), found in the model folders by name.
    await osc('/netbend/partner/load', 's', MODEL);
    await page.fill('#partner-path', MODEL);
    await page.click('#load-partner');
    done(await same('partner loaded', a, b, (s) => base(s.partner) === MODEL && BLEND_ALL in s.values));

    // 3-5. Three edits: one named, one derived (from the layer tree's +), one derived again on the
    // same target and op (its name gets a suffix), from the adder under the edit list.
    await osc('/netbend/edit/add', 'sssf', 'warp', 'G.synthesis.b16', 'scale', 1.5);
    await page.fill('#edit-target', 'G.synthesis.b16');
    await page.fill('#edit-name', 'warp');
    await page.selectOption('#edit-op', 'scale');
    await page.fill('#edit-amount', '1.5');
    await page.click('#edit-add');
    let s = await same('named edit', a, b, (x) => x.edits.length === 1);
    assert.deepEqual(s.edits, [{ name: 'warp', target: 'G.synthesis.b16', op: 'scale' }]);
    assert.equal(s.values['/netbend/edit/warp/amount'], 1.5);
    await page.locator('.edit[data-edit="warp"]').waitFor({ timeout: 5000 });
    done(s);

    await osc('/netbend/edit/add', 'sssf', '-', 'G.synthesis.b32', 'noise', 0.25);
    await page.click('.lrow[data-layer="G.synthesis.b32"] button.add');
    await page.selectOption('.lrow-adder select.op-select', 'noise');
    await page.fill('.lrow-adder input.amount', '0.25');
    await page.click('.lrow-adder button[type=submit]');
    s = await same('derived edit', a, b, (x) => x.edits.length === 2);
    done(s);

    await osc('/netbend/edit/add', 'sssf', '-', 'G.synthesis.b32', 'noise', 0.5);
    await page.fill('#edit-target', 'G.synthesis.b32');
    await page.selectOption('#edit-op', 'noise');
    await page.fill('#edit-amount', '0.5');
    await page.click('#edit-add');
    s = await same('second derived edit', a, b, (x) => x.edits.length === 3);
    const [derived1, derived2] = [s.edits[1]!.name, s.edits[2]!.name];
    assert.notEqual(derived1, derived2, 'the second edit on the same target and op gets a name of its own');
    assert.equal(s.values[`/netbend/edit/${derived2}/amount`], 0.5);
    // The page shows each slot by its name.
    for (const e of s.edits) assert.equal(await page.locator(`.edit[data-edit="${e.name}"]`).count(), 1, `the page lists edit ${e.name}`);
    done(s);

    // 6. A tapped layer. Over OSC it is the scene's tap (/netbend/tap/add: an undo step, saved in
    // presets). The page has no control for that move, nor a command: what it has is its layer view
    // (a click on the name), a view of the page's own (setTaps), not an undo step. So on B the tap is
    // made by that click and taken back by a second click where A undoes it; what the engine taps
    // is compared, and the saved scenes differ by their `taps` (see the frames below).
    await osc('/netbend/tap/add', 's', TAPPED);
    await page.click(`.lrow[data-layer="${TAPPED}"] button.lname`);
    done(await same('layer tapped', a, b, (x) => x.taps.includes(TAPPED)));

    // Pictures of the scene so far: each show saves it (OSC; the page's save field), both render
    // offline, frame for frame the same bytes.
    const frames = async (label: string, expectTaps: { a: string[] | { todo: string; taps: string[] }; b: string[] }) => {
      // A name per check, so the files waited for are the saves asked for now.
      const name = `check-${label}`;
      await osc('/netbend/preset/save', 's', name);
      await page.fill('#preset-name', name);
      await page.click('#save-preset');
      const file = (d: string) => join(d, `${name}.json`);
      await until(`both shows saved the scene (${label})`, async () => existsSync(file(presetsA)) && existsSync(file(presetsB)));
      const read = (d: string) => JSON.parse(readFileSync(file(d), 'utf8')) as Record<string, unknown>;
      const [pa, pb] = [read(presetsA), read(presetsB)];
      if (Array.isArray(expectTaps.a)) assert.deepEqual(pa.taps, expectTaps.a, `${label}: show A's saved taps`);
      else {
        const want = expectTaps.a.taps;
        await t.test(`${label}: show A saves the taps it plays`, { todo: expectTaps.a.todo }, () => assert.deepEqual(pa.taps, want));
      }
      assert.deepEqual(pb.taps, expectTaps.b, `${label}: show B's saved taps`);
      assert.deepEqual({ ...pb, taps: [] }, { ...pa, taps: [] }, `${label}: the saved scenes are the same (but their taps)`);
      const out = { a: join(dir, `${label}-a`), b: join(dir, `${label}-b`) };
      const [ra, rb] = await Promise.all([
        cli(['play', file(presetsA), '--frames', '1', '--out', out.a, '--ep', 'cpu']),
        cli(['play', file(presetsB), '--frames', '1', '--out', out.b, '--ep', 'cpu']),
      ]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      const [fa, fb] = [readFileSync(join(out.a, 'frame-00000.png')), readFileSync(join(out.b, 'frame-00000.png'))];
      assert.ok(fa.equals(fb), `${label}: the two scenes render the same frame, byte for byte`);
      return fa;
    };
    const tappedFrame = await frames('tapped', { a: [TAPPED], b: [] });

    // 7. A morph to the preset over 0.5 s (structure at the start).
    const seconds = 0.5;
    await osc('/netbend/preset/load', 'sfs', 'morph', seconds, 'start');
    await page.fill('#morph-seconds', String(seconds));
    await page.locator('#morph-seconds').dispatchEvent('change');
    await page.click('.preset[data-name="morph"]');
    s = await same(
      'morphed to the preset',
      a,
      b,
      (x) => near(x.values[AMPLITUDE], 1.75) && x.values[SEED] === 3 && near(x.values[BLEND_ALL], 0.5) && near(x.values['/netbend/edit/warp/amount'], 0.75),
      30_000,
      { pageTapsDiffer: true },
    );
    // The preset has no taps: A's scene tap went with the old scene; B's layer view is its page's own.
    assert.deepEqual((await snapshot(a)).taps, [], "A's scene tap went with the old scene");
    assert.deepEqual((await snapshot(b)).taps, [TAPPED], "B's page still views its layer");
    assert.deepEqual(
      s.edits.map((e) => [e.name === 'warp' ? 'warp' : 'derived', e.target, e.op]),
      [
        ['warp', 'G.synthesis.b16', 'scale'],
        ['derived', 'G.synthesis.b64', 'offset'],
      ],
      'the preset keeps warp, drops the derived edits, adds its own',
    );
    // A morph with structure at the start takes the preset's taps (none here), as a load does.
    const morphFrame = await frames('morphed', { a: [], b: [] });
    assert.ok(!morphFrame.equals(tappedFrame), 'the preset changed the picture');

    // Undo every step, newest first; after each, both shows are where they were before it.
    // Only the scene comes back: the preset list keeps the scenes saved meanwhile. And without a
    // partner the /netbend/blend/* parameters are left out: the engine defines them with the first
    // partner and keeps them when it goes (unload or undo alike), so after undoing the partner they
    // are still listed, where before it they were not. Both shows still have to agree on them.
    const BLEND = '/netbend/blend';
    const scene = (x: Snapshot) => {
      const blend = (k: string) => x.partner === null && (k === BLEND || k.startsWith(`${BLEND}/`));
      return { ...x, presets: [], values: Object.fromEntries(Object.entries(x.values).filter(([k]) => !blend(k))), addresses: x.addresses.filter((k) => !blend(k)) };
    };
    const undo = async (what: string, onPage: () => Promise<void> = ui.undo) => {
      const want = before.pop()!;
      await osc('/netbend/undo');
      await onPage();
      const got = await same(`undo ${what}`, a, b, (x) => isDeepStrictEqual(scene(x), scene(want)), 15_000);
      assert.deepEqual(scene(got), scene(want), `undo ${what}: the show is as it was before the step`);
    };
    await undo('the morph');
    await undo('the tap', () => page.click(`.lrow[data-layer="${TAPPED}"] button.lname`));
    await undo('the second derived edit');
    await undo('the derived edit');
    await undo('the named edit');
    await undo('the partner');
    await undo('the model switch');
    assert.equal(before.length, 0);
    const endFrame = await frames('undone', { a: [], b: [] });
    assert.ok(!endFrame.equals(morphFrame), 'all undone, the picture is not the preset');
    assert.equal(dialogs.length, 0, 'unlocked, nothing asked');

    // Locked: a model switch and a preset ask first on the page (the performer confirms); over OSC
    // the switch needs its confirm argument and a preset for the playing model goes through.
    done(await same('all undone', a, b, () => true));
    await osc(LOCK, 'T', true);
    await page.click('#lock');
    done(await same('lock on', a, b, (x) => x.values[LOCK] === true));
    await osc('/netbend/model/load', 'si', OTHER, 1);
    await page.fill('#model-file', OTHER);
    await page.click('#model-load');
    done(await same('locked model switch', a, b, (x) => x.model.endsWith(OTHER)));
    assert.equal(dialogs.length, 1, 'the locked page asked before switching the model');
    assert.match(dialogs[0]!, /^switch the model to .*stylegan2-64-tiny-b\.onnx\?$/);
    await osc('/netbend/preset/load', 'sfs', 'morph', seconds, 'start');
    await page.click('.preset[data-name="morph"]');
    s = await same('locked preset', a, b, (x) => near(x.values[AMPLITUDE], 1.75) && x.values[SEED] === 3 && x.edits.length === 2);
    assert.equal(dialogs.length, 2, 'the locked page asked before loading the preset');
    assert.match(dialogs[1]!, /^load preset "morph"\?$/);
    // A refused move (held back by the lock until the page confirms) leaves no undo step, so the
    // page, which asked once per move, undoes alike with OSC.
    await undo('the locked preset');
    await undo('the locked model switch');
    // The lock is a safeguard of the performance, not a move of the scene: undo leaves it on.
    assert.equal((await snapshot(a)).values[LOCK], true);
    assert.equal((await snapshot(b)).values[LOCK], true);
    assert.deepEqual(errors, [], 'no errors on the page');
  }
});

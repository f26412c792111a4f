// The seed grid: its cells are the frames those seeds give when played, a grid around the current
// latent at spread 0 is n * n copies of the current frame, and a picked cell is jumped to or kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './helpers.ts';
import { Engine } from '../app/engine/engine.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { SeedGrid, type GridCell } from '../app/engine/seed-grid.ts';
import type { KeyframeLoop } from '../app/engine/sources/keyframe-loop.ts';
import { PNG } from 'pngjs';
import { tempDir } from './helpers.ts';
import { LoopbackOsc, SteppedClock } from './loopback-ports.ts';
import { LiveSession } from '../app/server/live-session.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { PresetFolder } from '../app/control/preset-store.ts';
import { parseIncoming } from '../app/server/commands.ts';
import type { GridCellPng } from '../app/engine/seed-grid.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');
const now = (index: number, time = 0) => ({ index, time, dt: 1 / 30 });
const noRest = () => Promise.resolve();
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test('grid cells are the frames of their seeds played directly; jump sets the seed; keep makes keyframes', async () => {
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', registry: params, sources: { z: 'keyframes' } });
  const grid = new SeedGrid(engine, { rest: noRest });
  try {
    assert.equal(grid.input, 'z');
    const seen: number[] = [];
    const cells = await grid.render({ n: 2, mode: 'seeds', seed: 40 }, (c) => seen.push(c.index));
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.deepEqual(
      cells.map((c) => c.seed),
      [40, 41, 42, 43],
    );
    assert.equal(cells[0]!.rgba.length, cells[0]!.width * cells[0]!.height * 4);
    for (const cell of cells) {
      params.set('/netbend/source/z/seed', cell.seed!, 'api');
      const frame = await engine.render(now(cell.index));
      assert.ok(same(frame.rgba!, cell.rgba), `cell ${cell.index} is seed ${cell.seed}'s frame`);
    }
    assert.ok(!same(cells[0]!.rgba, cells[1]!.rgba), 'seeds differ');

    // Jump: the input plays the cell's seed.
    grid.jump(cells[2]!);
    assert.equal(params.get('/netbend/source/z/seed'), 42);
    assert.ok(same((await engine.render(now(10))).rgba!, cells[2]!.rgba));

    // Keep: picks become the loop's keyframes, played in the order kept.
    const loop = engine.side().inputs[0]!.source as unknown as KeyframeLoop;
    assert.equal(grid.keep(cells[3]!), 1);
    assert.equal(grid.keep(cells[1]!), 2);
    assert.deepEqual(loop.params.keyframes, [{ seed: 43 }, { seed: 41 }]);
    params.set('/netbend/source/z/leg', 1, 'api');
    assert.ok(same((await engine.render(now(11, 0))).rgba!, cells[3]!.rgba));
    assert.ok(same((await engine.render(now(12, 1))).rgba!, cells[1]!.rgba));
    assert.ok(same((await engine.render(now(13, 2))).rgba!, cells[3]!.rgba), 'the loop comes round');
  } finally {
    await grid.close();
    await engine.close();
  }
});

test('around the current latent: spread 0 gives n * n copies of the current frame; a glide and a latent jump', async () => {
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', registry: params, sources: { z: 'keyframes' }, seed: 7 });
  const grid = new SeedGrid(engine, { rest: noRest });
  try {
    const current = (await engine.render(now(0))).rgba!.slice();
    const flat = await grid.render({ n: 3, mode: 'around', spread: 0 });
    assert.equal(flat.length, 9);
    for (const c of flat) assert.ok(same(c.rgba, current), `cell ${c.index} is the current frame`);
    const around: GridCell[] = await grid.render({ n: 2, mode: 'around', spread: 0.6, seed: 3 });
    assert.ok(
      around.every((c) => !same(c.rgba, current)),
      'a spread moves every cell',
    );
    // Glide to a cell around the current one: it starts at the current frame and arrives at the cell's.
    grid.jump(around[1]!, 1);
    assert.ok(same((await engine.render(now(1, 5))).rgba!, current), 'the glide starts at the current picture');
    const midway = (await engine.render(now(2, 5.5))).rgba!;
    assert.ok(!same(midway, current) && !same(midway, around[1]!.rgba));
    assert.ok(same((await engine.render(now(3, 6))).rgba!, around[1]!.rgba), 'and ends at the cell');
  } finally {
    await grid.close();
    await engine.close();
  }
});

test('on a walk input a seed cell is the walk at that seed, and jump plays it', async () => {
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', registry: params, sources: { z: 'walk' } });
  const grid = new SeedGrid(engine, { rest: noRest });
  try {
    const [cell] = await grid.render({ n: 1, mode: 'seeds', seed: 2 });
    // The walk's default seeds are 0..3: at t = 2 * secondsPerSeed it rests on seed 2.
    assert.ok(same((await engine.render(now(0, 8))).rgba!, cell!.rgba));
    grid.jump({ seed: 1234, latent: new Float32Array(0) });
    const [far] = await grid.render({ n: 1, mode: 'seeds', seed: 1234 });
    assert.equal(params.get('/netbend/source/z/seed'), 1234);
    assert.ok(same((await engine.render(now(1, 3.3))).rgba!, far!.rgba), 'the walk holds the jumped-to seed');
  } finally {
    await grid.close();
    await engine.close();
  }
});

test("the show's seedGrid and seedPick commands: PNG cells of the seeds, jump, glide and keep by index", async (t) => {
  const dir = tempDir(t);
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', sources: { z: 'keyframes' } },
    { clock: new SteppedClock(10), osc: new LoopbackOsc(), midi: undefined, recorder: ffmpegTakes({ dir: join(dir, 'takes'), format: 'png' }), presets: new PresetFolder(join(dir, 'presets')) },
  );
  t.after(() => session.close());
  const parsed = parseIncoming(JSON.stringify({ id: 1, cmd: 'seedGrid', n: 2, mode: 'seeds', seed: 60 }));
  assert.equal(parsed.kind, 'command');
  assert.equal(parseIncoming(JSON.stringify({ id: 2, cmd: 'seedGrid', n: 20, mode: 'seeds' })).kind, 'bad-command');
  const cells = (await session.command((parsed as Extract<typeof parsed, { kind: 'command' }>).command)) as GridCellPng[];
  assert.deepEqual(
    cells.map((c) => c.seed),
    [60, 61, 62, 63],
  );
  const png = PNG.sync.read(Buffer.from(cells[1]!.png, 'base64'));
  assert.equal(png.width, cells[1]!.width);
  assert.equal(await session.command({ cmd: 'seedPick', index: 1, action: 'jump' }), null);
  assert.equal(session.params.get('/netbend/source/z/seed'), 61);
  const frame = await session.engine.render(now(0));
  assert.ok(same(frame.rgba!, new Uint8Array(png.data)), "the PNG is seed 61's frame");
  await session.command({ cmd: 'seedPick', index: 3, action: 'glide', glide: 1.5 });
  assert.equal(session.params.get('/netbend/source/z/glide'), 1.5);
  assert.equal(session.params.get('/netbend/source/z/seed'), 63);
  assert.equal(await session.command({ cmd: 'seedPick', index: 0, action: 'keep' }), 1);
  assert.equal(await session.command({ cmd: 'seedPick', index: 2, action: 'keep' }), 2);
  await assert.rejects(session.command({ cmd: 'seedPick', index: 9, action: 'jump' }), /no cell 9 \(the grid has 4\)/);
});

test('on a strip input a seed cell is the strip with that seed at the time asked, and jump plays it', async () => {
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: MODEL, ep: 'cpu', registry: params });
  const grid = new SeedGrid(engine, { rest: noRest });
  try {
    const cells = await grid.render({ n: 2, mode: 'seeds', seed: 5, time: 2.5 });
    grid.jump(cells[3]!);
    assert.equal(params.get('/netbend/source/z/seed'), 8);
    assert.ok(same((await engine.render(now(0, 2.5))).rgba!, cells[3]!.rgba));
    assert.ok(!same((await engine.render(now(1, 3.5))).rgba!, cells[3]!.rgba), 'the strip moves on from there');
  } finally {
    await grid.close();
    await engine.close();
  }
});

test('on a model with W space the grid plays through it: truncation 0 gives one picture, and a cell is the frame its seed plays with the W settings', async () => {
  const { fixture } = await import('./helpers.ts');
  const params = new ParameterRegistry();
  const { engine } = await Engine.open({ model: fixture('stylegan2-64-tiny.onnx'), ep: 'cpu', registry: params, sources: { z: 'keyframes' }, latent: { samples: 64 } });
  const grid = new SeedGrid(engine, { rest: noRest });
  const L = '/netbend/latent';
  try {
    const plain = await grid.render({ n: 2, mode: 'seeds', seed: 10 });
    params.set(`${L}/truncation`, 0, 'api');
    const flat = await grid.render({ n: 2, mode: 'seeds', seed: 10 });
    assert.ok(!same(plain[0]!.rgba, plain[1]!.rgba), 'seeds differ untruncated');
    assert.ok(same(flat[0]!.rgba, flat[1]!.rgba) && same(flat[0]!.rgba, flat[3]!.rgba), 'psi 0: every seed is w_avg');
    params.set(`${L}/truncation`, 0.6, 'api');
    params.set(`${L}/mix/seed`, 9, 'api');
    params.set(`${L}/mix/from`, 6, 'api');
    params.set(`${L}/direction/0/amount`, 1.5, 'api');
    const cells = await grid.render({ n: 2, mode: 'seeds', seed: 10 });
    grid.jump(cells[2]!);
    await engine.settled();
    const frame = await engine.render(now(0));
    assert.ok(same(frame.rgba!, cells[2]!.rgba), 'the picked cell is what plays');
    assert.ok(!same(cells[2]!.rgba, plain[2]!.rgba), 'and not the untouched picture');
  } finally {
    await grid.close();
    await engine.close();
  }
});

// Takes: a performance played live over OSC and recorded losslessly (PNG frames) is logged beside
// its recording, and `netbend render --take` renders it again: at the take's own fps every frame
// equals the live frame recorded in its slot; at twice the size the same take plays scaled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, FIXTURES, fixture, tempDir } from './helpers.ts';
import { LiveSession, RECORD } from '../app/server/live-session.ts';
import { systemPorts } from '../app/server/show-ports.ts';
import { OSC } from '../app/io/osc-server.ts';
import { loadTake } from '../app/scene/take.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const PARTNER = fixture('stylegan2-64-tiny-b.onnx');

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pixels = (file: string) => PNG.sync.read(readFileSync(file)).data;

test('a live take over OSC re-renders frame for frame, and at twice the size', async (t) => {
  const dir = tempDir(t);
  const recordings = join(dir, 'rec');
  const { session } = await LiveSession.open(
    { model: MODEL, ep: 'cpu', modelDirs: [FIXTURES] },
    systemPorts({ fps: 20, oscPort: 0, midi: false, presetsDir: join(dir, 'presets'), recordDir: recordings, recordFormat: 'png' }),
  );
  t.after(() => session.close());
  const port = session.osc!.port;
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  const send = (address: string, types: string, args: Array<number | string>) => {
    const m = new OSC.Message(address);
    [m.types, m.args] = [types, args];
    sock.send(m.pack(), port, '127.0.0.1');
  };
  const frame = () => session.loop.stats().frame;
  const afterFrames = async (n: number) => {
    const f0 = frame();
    await until(() => frame() >= f0 + n, `${n} frames`);
  };
  const notices: string[] = [];
  session.on('notice', (n) => notices.push(n.text));

  // Structure before the take: a partner and one edit, so the take starts mid-scene.
  send('/netbend/partner/load', 's', [PARTNER]);
  await until(() => session.engine.bend.partner?.endsWith('stylegan2-64-tiny-b.onnx') === true, 'the partner');
  send('/netbend/edit/add', 'sssf', ['warp', 'b16', 'scale', 1.3]);
  await until(() => session.engine.structure().edits.some((e) => e.name === 'warp'), 'the first edit in play');
  send('/netbend/record/on', 'i', [1]);
  await until(() => session.stats().recording !== null, 'the recording');

  // The performance: values from OSC, a modulator-free glide by hand, structure changing mid-take.
  for (let i = 0; i < 20; i++) {
    send('/netbend/blend/all', 'f', [i / 20]);
    send('/netbend/source/z/speed', 'f', [0.5 + i * 0.1]);
    if (i === 6) send('/netbend/edit/add', 'sssf', ['grain', 'b32', 'noise', 0.4]);
    if (i === 12) send('/netbend/edit/warp/remove', '', []);
    if (i === 14) send('/netbend/edit/grain/amount', 'f', [0.9]);
    await afterFrames(2);
  }
  await until(
    () =>
      session.engine
        .structure()
        .edits.map((e) => e.name)
        .join() === 'grain',
    'grain in play, warp gone',
  );
  await afterFrames(10);
  session.params.set(RECORD, false, 'ui');
  await until(() => notices.some((n) => /performance log saved to/.test(n)), 'the take file', 30_000);

  const video = readdirSync(recordings).find((f) => !f.endsWith('.json'))!;
  const takeFile = join(recordings, `${video}.take.json`);
  assert.ok(existsSync(takeFile), `take beside ${video}: ${readdirSync(recordings).join(', ')}`);
  const take = await loadTake(takeFile);
  const live = readdirSync(join(recordings, video))
    .filter((f) => f.endsWith('.png'))
    .sort();
  // Slots, not rendered frames, pace the performance: a loaded machine drops some, so a floor, not a count.
  assert.ok(take.frames.length >= 20, `${take.frames.length} frames logged`);
  assert.equal(live.length, take.frames.at(-1)![0] - take.frames[0]![0] + 1, 'the recording holds every slot from the first logged frame to the last');
  assert.ok(
    take.log.some((e) => e[1] === 's'),
    'structure changed during the take',
  );
  assert.ok(
    take.log.some((e) => e[1] === 'v' && e[2] === '/netbend/blend/all'),
    'values were logged',
  );

  const again = join(dir, 'again');
  const big = join(dir, 'big');
  // Both renders side by side (each is mostly a process starting and a model loading).
  const [r, r2] = await Promise.all([
    cli(['render', '--take', takeFile, '--format', 'png', '--out', again, '--ep', 'cpu']),
    cli(['render', '--take', takeFile, '--format', 'png', '--size', '128x128', '--out', big, '--ep', 'cpu']),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rendered = readdirSync(again)
    .filter((f) => f.endsWith('.png'))
    .sort();
  assert.deepEqual(rendered, live, 'the same slots');
  const first = take.frames[0]![0];
  let compared = 0;
  for (const [index] of take.frames) {
    const name = `frame-${String(index - first).padStart(5, '0')}.png`;
    assert.ok(pixels(join(again, name)).equals(pixels(join(recordings, video, name))), `${name}: the re-rendered frame equals the live one`);
    compared++;
  }
  assert.equal(compared, take.frames.length);

  assert.equal(r2.code, 0, r2.stderr);
  const bigFrames = readdirSync(big).filter((f) => f.endsWith('.png'));
  assert.equal(bigFrames.length, live.length);
  const png = PNG.sync.read(readFileSync(join(big, bigFrames[0]!)));
  assert.deepEqual([png.width, png.height], [128, 128]);
});

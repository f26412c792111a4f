// A sound file as the live show's track, against a real `netbend serve --track` (clicks every
// 0.5 s, made by ffmpeg's lavfi): the features follow the track's clock (onsets on click times of
// the track, each frame's track time its slot's, as a render's), pause holds the position, a seek
// (page command or OSC move) moves it; hostile loads are refused and the track plays on; the
// decoded track is served as a WAV with byte ranges; and a real Chromium's <audio> element plays
// it in step with the engine's clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fixture, startServe, until } from './helpers.ts';
import { loadTake } from '../app/scene/take.ts';
import { TakeSound } from '../app/scene/take-sound.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { Tempo } from '../app/control/tempo.ts';
import { wsPage } from './ws-page.ts';
import dgram from 'node:dgram';
import { decodeOsc, type OscPacket } from '../app/io/osc-server.ts';
import { CHROMIUM, noChromium, oscSend, oscValue, untilValue } from './ui-helpers.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const LIMIT = { timeout: 120_000 };
const T = '/netbend/audio/track/';

const dir = mkdtempSync(join(tmpdir(), 'netbend-track-'));
const clicks = join(dir, 'clicks.wav');
let s: Awaited<ReturnType<typeof startServe>>;
let base: string;
/** The --osc-target: each frame's changed values in order, as sent (a page's messages coalesce under load; datagrams do not). */
const udp = dgram.createSocket('udp4');
const sent: Array<[string, number]> = [];
const walk = (p: OscPacket | undefined): void => {
  if (!p) return;
  if ('elements' in p) p.elements.forEach(walk);
  else sent.push([p.address, Number(p.args[0])]);
};
before(async () => {
  udp.on('message', (m) => walk(decodeOsc(new Uint8Array(m))));
  await new Promise<void>((ok) => udp.bind(0, '127.0.0.1', () => ok()));
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'aevalsrc=0.9*lt(mod(t\\,0.5)\\,0.003):s=48000:d=30', '-ac', '1', '-c:a', 'pcm_s16le', clicks]);
  assert.equal(ff.status, 0, String(ff.stderr));
  writeFileSync(join(dir, 'not-sound.wav'), 'this is not a wav file');
  s = await startServe(MODEL, ['--osc-target', `127.0.0.1:${udp.address().port}`, '--track', clicks, '--record-dir', join(dir, 'rec'), '--record-format', 'png']);
  base = s.url.replace(/\/(\?.*)?$/, '');
});
after(async () => {
  await s?.stop();
  udp.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the track drives the features on its clock; pause holds it, a seek moves it; bad loads are refused', LIMIT, async () => {
  const p = wsPage(s.url);
  await p.opened;
  try {
    assert.equal(await oscValue(base, `${T}file`), clicks);
    assert.equal(await oscValue(base, `${T}length`), 30);
    // Each frame says the track time, then the features it read: an onset's track time is the last time before it.
    assert.equal((await p.call({ cmd: 'set', address: '/netbend/audio/send', value: true })).ok, true);
    /** [track time of the onset's frame, of the frame rendered before it] */
    const onsets: Array<[number, number]> = [];
    const times: number[] = [];
    await until(() => sent.filter(([a, v]) => a === '/netbend/audio/onset' && v > 0.99).length >= 7, '7 onsets sent', 20_000);
    let time = -1;
    let before = -1;
    let prev = 0;
    for (const [a, v] of sent) {
      if (a === `${T}time`) {
        before = time;
        times.push((time = v));
      } else if (a === '/netbend/audio/onset') {
        // The first one may have been found before send was on.
        if (v > 0.99 && prev < v && before >= 0) onsets.push([time, before]);
        prev = v;
      }
    }
    assert.equal((await p.call({ cmd: 'set', address: '/netbend/audio/send', value: false })).ok, true);
    assert.ok(onsets.length >= 6, `onsets at ${onsets.map(([o]) => o)}`);
    for (const [o, b] of onsets) {
      const click = Math.floor(o / 0.5 + 1e-6) * 0.5;
      // On the first frame rendered after the click (its time, or up to a hop and a window's middle
      // before it: the analysis ends there); slots a loaded machine dropped put it later, never earlier.
      assert.ok(o >= click - 1e-6 && b < click + 0.03, `onset on the frame at track time ${o.toFixed(3)} (the frame before: ${b.toFixed(3)}), click at ${click}`);
    }
    // Loaded before the first frame, the track time of every frame is its slot's time (n / 30): a render's frame n.
    // (OSC carries float32: within its precision.)
    for (const t of times) assert.ok(Math.abs(t * 30 - Math.round(t * 30)) < 1e-4, `track time ${t} is not a slot time`);

    // Pause: the position holds.
    assert.equal((await p.call({ cmd: 'transport', playing: false })).ok, true);
    const held = Number(await oscValue(base, `${T}time`));
    await new Promise((r) => setTimeout(r, 400)); // the span over which nothing may move
    assert.equal(Number(await oscValue(base, `${T}time`)), held);
    // A seek while paused: there at once; playing goes on from there.
    assert.equal((await p.call({ cmd: 'track', position: 20 })).ok, true);
    assert.equal(Number(await oscValue(base, `${T}time`)), 20);
    const playFrom = performance.now();
    assert.equal((await p.call({ cmd: 'transport', playing: true })).ok, true);
    const later = Number(await untilValue(base, `${T}time`, (v) => Number(v) > 20.3, 5000));
    assert.ok(later > 20.3 && later < 20 + (performance.now() - playFrom) / 1000 + 0.1, `after the seek and play: ${later}`);
    // The OSC move seeks too; a position beyond the track is held at its end, before 0 at 0.
    await oscSend(base, `${T}position`, 5);
    const osc = Number(await untilValue(base, `${T}time`, (v) => Number(v) >= 5 && Number(v) < 6, 5000));
    assert.ok(osc >= 5 && osc < 6, `after /netbend/audio/track/position 5: ${osc}`);
    assert.equal((await p.call({ cmd: 'transport', playing: false })).ok, true);
    await oscSend(base, `${T}position`, -3);
    assert.equal(Number(await untilValue(base, `${T}time`, (v) => Number(v) === 0)), 0);
    assert.equal((await p.call({ cmd: 'track', position: 1e5 })).ok, true);
    assert.equal(Number(await oscValue(base, `${T}time`)), 30);
    assert.equal((await p.call({ cmd: 'transport', playing: true })).ok, true);

    // Hostile loads: refused in a sentence, the track plays on.
    const refused = async (cmd: Record<string, unknown>, want: RegExp) => {
      const r = await p.call(cmd);
      assert.equal(r.ok, false, JSON.stringify(cmd));
      assert.match(r.error ?? '', want);
    };
    await refused({ cmd: 'track', load: '/etc/passwd' }, /not a sound file/);
    await refused({ cmd: 'track', load: '../../etc/x.wav' }, /no sound file "..\/..\/etc\/x.wav" in the sound file folders/);
    await refused({ cmd: 'track', load: 'not-sound.wav' }, /not audio ffmpeg can read/);
    await refused({ cmd: 'track', load: 'x'.repeat(2000) }, /load/);
    await refused({ cmd: 'track', position: Number.NaN }, /position/);
    await refused({ cmd: 'track', load: 'clicks.wav', position: 1 }, /one of load/);
    assert.equal(await oscValue(base, `${T}file`), clicks);
    // At start, a bad --track is one line, before the model loads.
    for (const [file, want] of [
      [join(dir, 'missing.wav'), /missing\.wav: no such audio file/],
      [join(dir, 'not-sound.wav'), /not-sound\.wav: is not audio ffmpeg can read/],
    ] as const) {
      const r = await cli(['serve', MODEL, '--port', '0', '--osc-port', '0', '--no-open', '--track', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // A load by name from the track folder starts it from 0.
    assert.equal((await p.call({ cmd: 'track', load: 'clicks.wav' })).ok, true);
    assert.ok(Number(await oscValue(base, `${T}time`)) < 1);
  } finally {
    p.ws.close();
  }

  // The decoded track over HTTP: a 16-bit WAV, byte ranges answered; the picker's list.
  const whole = await fetch(`${base}/api/audio/track`);
  assert.equal(whole.status, 200);
  assert.equal(Number(whole.headers.get('content-length')), 44 + 30 * 48_000 * 2);
  await whole.body?.cancel();
  const head = await fetch(`${base}/api/audio/track`, { headers: { range: 'bytes=0-11' } });
  assert.equal(head.status, 206);
  const bytes = Buffer.from(await head.arrayBuffer());
  assert.equal(bytes.length, 12);
  assert.equal(`${bytes.toString('latin1', 0, 4)}${bytes.toString('latin1', 8, 12)}`, 'RIFFWAVE');
  assert.equal(bytes.readUInt32LE(4), 36 + 30 * 48_000 * 2);
  assert.equal((await fetch(`${base}/api/audio/track`, { headers: { range: 'bytes=99999999-' } })).status, 416);
  assert.equal((await fetch(`${base}/api/audio/track`, { headers: { range: 'bytes=0-1,5-9' } })).status, 416);
  const list = (await (await fetch(`${base}/api/audio/tracks`)).json()) as { files: string[] };
  assert.ok(list.files.includes(clicks), JSON.stringify(list));
  assert.equal(s.child.exitCode, null);
});

test('the page plays the track in step with the engine clock and follows a seek', { ...LIMIT, skip: noChromium }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--autoplay-policy=no-user-gesture-required'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url);
    type Dbg = { el: HTMLAudioElement; drift: number; engine: number };
    const read = () =>
      page.evaluate(() => {
        const d = (globalThis as unknown as { netbend: { trackSound: Dbg } }).netbend.trackSound;
        return { paused: d.el.paused, current: d.el.currentTime, drift: d.drift, engine: d.engine };
      });
    await page.waitForFunction(
      () => {
        const d = (globalThis as unknown as { netbend: { trackSound: Dbg } }).netbend.trackSound;
        return !d.el.paused && d.el.readyState >= 3 && d.el.currentTime > 1 && Math.abs(d.drift) < 0.2;
      },
      null,
      { timeout: 20_000 },
    );
    // Playing, it stays within the bound of the engine's clock (checked at each frame's time).
    const drifts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await read();
      assert.equal(r.paused, false);
      drifts.push(r.drift);
      await page.waitForFunction((e) => (globalThis as unknown as { netbend: { trackSound: Dbg } }).netbend.trackSound.engine > e + 0.2, r.engine, { timeout: 5000 });
    }
    // Typically within a frame or two of the engine; a stall of the loaded machine is moved back (JUMP 0.25 s) at the next frame.
    const sorted = drifts.map(Math.abs).sort((a, b) => a - b);
    assert.ok(sorted[Math.floor(sorted.length / 2)]! < 0.15 && sorted.at(-1)! < 0.6, `drift ${drifts.map((d) => d.toFixed(3))}`);
    // A seek from the engine: the element follows.
    await oscSend(base, `${T}position`, 12);
    await page.waitForFunction(
      () => {
        const d = (globalThis as unknown as { netbend: { trackSound: Dbg } }).netbend.trackSound;
        return !d.el.paused && Math.abs(d.el.currentTime - 12.5) < 0.5;
      },
      null,
      { timeout: 10_000 },
    );
    // Paused with the transport.
    await oscSend(base, '/netbend/transport/play', 0);
    await page.waitForFunction(() => (globalThis as unknown as { netbend: { trackSound: Dbg } }).netbend.trackSound.el.paused, null, { timeout: 5000 });
    await oscSend(base, '/netbend/transport/play', 1);
    // The audio tab's picker lists the track folder's files and loads one: it plays from 0.
    await oscSend(base, `${T}position`, 20);
    await untilValue(base, `${T}time`, (v) => Number(v) >= 20);
    await page.click('#tab-audio');
    await page.locator('#track-file option[value$="clicks.wav"]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.selectOption('#track-file', clicks);
    await page.click('#track-load');
    const restarted = Number(await untilValue(base, `${T}time`, (v) => Number(v) < 2, 10_000));
    assert.ok(restarted < 2, `loaded from the picker: ${restarted}`);
    await page.locator('#track-time').waitFor({ timeout: 5000 });
    console.log(`track sound: drift ${drifts.map((d) => d.toFixed(3)).join(' ')} s`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a take keeps the sound that drove it: re-analysed, its onsets are the live ones frame for frame; render --take muxes it', LIMIT, async () => {
  const p = wsPage(s.url);
  await p.opened;
  const K = '/netbend/knobs/k1';
  try {
    assert.equal((await p.call({ cmd: 'addModulator', target: K, kind: 'expr', source: 'audio.onset' })).ok, true);
    assert.equal((await p.call({ cmd: 'track', position: 2 })).ok, true);
    const notices = p.notices;
    assert.equal((await p.call({ cmd: 'record', on: true })).ok, true);
    const frames = () => p.frames();
    let f0 = frames();
    await until(() => frames() >= f0 + 30, 'a second of the take');
    // A pause and a seek inside the take.
    assert.equal((await p.call({ cmd: 'transport', playing: false })).ok, true);
    await new Promise((r) => setTimeout(r, 300)); // a pause of some length
    assert.equal((await p.call({ cmd: 'transport', playing: true })).ok, true);
    f0 = frames();
    await until(() => frames() >= f0 + 10, 'frames after the pause');
    assert.equal((await p.call({ cmd: 'track', position: 9 })).ok, true);
    f0 = frames();
    await until(() => frames() >= f0 + 30, 'a second after the seek');
    assert.equal((await p.call({ cmd: 'record', on: false })).ok, true);
    await until(() => notices().some((n) => /performance log saved to/.test(n)), 'the take file', 30_000);
  } finally {
    p.ws.close();
  }
  const rec = join(dir, 'rec');
  const video = readdirSync(rec).find((f) => !/\.take\.(json|wav)$/.test(f))!;
  const take = await loadTake(join(rec, `${video}.take.json`));
  assert.ok(take.audio, 'the take has its sound');
  assert.ok(existsSync(take.audio.file) && take.audio.file.endsWith('.take.wav'), take.audio.file);
  assert.equal(take.audio.ends.length, take.frames.length);
  assert.ok(take.audio.heard.length >= 3, `parts heard: the start, after the pause, after the seek: ${JSON.stringify(take.audio.heard)}`);
  assert.ok(!readdirSync(rec).some((f) => f.endsWith('.tmp')), 'no temporary file left');

  // The live onsets, as the modulator set the knob from them frame by frame (the log holds each change).
  const sound = (await TakeSound.open(take))!;
  const params = new ParameterRegistry();
  sound.attach(params, new Tempo());
  let knob: number | undefined;
  let next = 0;
  let compared = 0;
  let onsets = 0;
  for (const [i, [index, time, dt]] of take.frames.entries()) {
    for (; next < take.log.length && take.log[next]![0] <= index; next++) {
      const e = take.log[next]!;
      if (e[1] === 'v' && e[2] === K) knob = Number(e[3]);
    }
    sound.frame(i, { index, time, dt });
    const onset = Number(params.get('/netbend/audio/onset'));
    if (knob === undefined) continue;
    assert.ok(Math.abs(onset - knob) < 1e-9, `frame ${index}: onset ${onset} re-analysed, ${knob} live`);
    compared++;
    if (onset === 1) onsets++;
  }
  assert.ok(compared > 40 && onsets >= 3, `compared ${compared} frames, ${onsets} onsets`);

  // render --take: the same frames, and the sound as it was played, muxed in.
  const out = join(dir, 'again.mp4');
  const r = await cli(['render', '--take', join(rec, `${video}.take.json`), '--out', out, '--ep', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,duration', '-of', 'json', out]);
  const streams = (JSON.parse(String(probe.stdout)) as { streams: Array<{ codec_type: string; duration: string }> }).streams;
  const v = Number(streams.find((x) => x.codec_type === 'video')?.duration);
  const a = Number(streams.find((x) => x.codec_type === 'audio')?.duration);
  assert.ok(Math.abs(a - v) < 0.1, `audio ${a} s, video ${v} s`);
});

// The live audio path without a browser: a real WebSocket client sends PCM blocks to a real
// `netbend serve` as a page would (app/core/pcm-frame.ts), the features line up with the offline
// analyser's, and hostile input (bad headers, wrong lengths, NaN, 1 MB, floods, a second capturing
// page) is refused and said while the show plays on. The CaptureClock is tested on its own first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type WebSocket from 'ws';
import { cli, fixture, startServe, until } from './helpers.ts';
import { wsPage } from './ws-page.ts';
import { oscValue, untilValue } from './ui-helpers.ts';
import { CaptureClock } from '../app/audio/capture-clock.ts';
import { AudioAnalyser } from '../app/audio/analyser.ts';
import { AUDIO_RATE, PcmBuffer } from '../app/audio/pcm-source.ts';
import { encodePcmFrame, PCM_HEADER_BYTES, PCM_MAX_SAMPLES } from '../app/core/pcm-frame.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const LIMIT = { timeout: 120_000 };
const BLOCK = 1024;

/** Streams `signal` (of the page's sample index) in real time, BLOCK samples a send, until stop(). */
function streamer(ws: WebSocket, signal: (i: number) => number, latencyMs = 0) {
  const t0 = performance.now();
  const st = { sent: 0, signal, stopped: false, done: Promise.resolve() };
  st.done = (async () => {
    while (!st.stopped) {
      const due = Math.floor(((performance.now() - t0) / 1000) * AUDIO_RATE);
      while (st.sent + BLOCK <= due) {
        const block = new Float32Array(BLOCK);
        for (let i = 0; i < BLOCK; i++) block[i] = st.signal(st.sent + i);
        ws.send(encodePcmFrame(st.sent, block, latencyMs));
        st.sent += BLOCK;
      }
      // Pacing, not synchronisation: the next block is due in ~21 ms.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return st;
}

/** Resolves once the stream has sent `seconds` more. */
async function streamed(st: { sent: number }, seconds: number, ms = 10_000): Promise<void> {
  const want = st.sent + seconds * AUDIO_RATE;
  await until(() => st.sent >= want, `${seconds} s streamed`, ms);
}

const sine = (hz: number, amp: number) => (i: number) => amp * Math.sin((2 * Math.PI * hz * i) / AUDIO_RATE);

test('CaptureClock: the first block ends now; spacing kept; never in the future; a steady lag is caught up', () => {
  const c = new CaptureClock({ slack: 2400, window: 96_000 });
  // First block (page samples 0..1023) arrives at show sample 48 000: it ends there.
  assert.equal(c.place(0, 1024, 48_000), 48_000 - 1024);
  // The next block, 3 ms late: same offset, 144 samples of lateness.
  assert.equal(c.place(1024, 1024, 48_000 + 1024 + 144), 48_000);
  assert.equal(c.lateness, 144);
  // A block that would end after now (the page's clock runs fast) is pulled back to end now.
  assert.equal(c.place(2048, 1024, 49_800), 49_800 - 1024);
  assert.equal(c.lateness, 0);
  // Steadily 0.1 s late for a whole window (a slow page clock, a stall): moved up to now.
  const base = c.place(3072, 1024, 48_000 + 3072 + 500) - 3072;
  let at = 0;
  for (let k = 1; k <= 200; k++) at = c.place(3072 + k * 1024, 1024, 48_000 + 3072 + 500 + k * 1024 + 4800);
  assert.ok(c.moves >= 2, `moves ${c.moves}`);
  assert.ok(at - (3072 + 200 * 1024) > base, 'the offset moved up');
  assert.ok(c.lateness < 4800, `lateness after the catch-up ${c.lateness}`);
});

let s: Awaited<ReturnType<typeof startServe>>;
let base: string;
/** The --osc-target: every datagram the show sends out, as text (addresses are plain ASCII in OSC). */
const udp = dgram.createSocket('udp4');
let outgoing = '';
before(async () => {
  udp.on('message', (m) => (outgoing += m.toString('latin1')));
  await new Promise<void>((ok) => udp.bind(0, '127.0.0.1', () => ok()));
  s = await startServe(MODEL, ['--osc-target', `127.0.0.1:${udp.address().port}`]);
  base = s.url.replace(/\/(\?.*)?$/, '');
});
after(async () => {
  await s.stop();
  udp.close();
});

test('a 60 Hz sine streamed in real time: low and rms match the offline analyser; a later onset shows within the latency bound', LIMIT, async () => {
  const p = wsPage(s.url);
  await p.opened;
  try {
    assert.equal((await p.call({ cmd: 'audioCapture', on: true })).ok, true);
    const tone = sine(60, 0.5);
    const st = streamer(p.ws, tone, 5);
    try {
      await streamed(st, 1.5);
      // Offline: the same signal's features at 1.5 s (the windows ending there); steady, so any time after the first window would do.
      const offline = new AudioAnalyser(new PcmBuffer(Float32Array.from({ length: 2 * AUDIO_RATE }, (_, i) => tone(i)))).at(1.5);
      const low = Number(await untilValue(base, '/netbend/audio/low', (v) => Math.abs(Number(v) - offline.low) < 0.02 * offline.low));
      const rms = Number(await oscValue(base, '/netbend/audio/rms'));
      assert.ok(Math.abs(low - offline.low) < 0.02 * offline.low, `low ${low} live, ${offline.low} offline`);
      // The rms window (2048 samples) holds 2.56 periods of 60 Hz: its value moves about 1.5 % with
      // where the window ends, and the live and offline windows end at different phases.
      assert.ok(Math.abs(rms - offline.rms) < 0.05 * offline.rms, `rms ${rms} live, ${offline.rms} offline`);
      assert.ok(Math.abs(offline.rms - 0.5 / Math.SQRT2) < 0.01, `offline rms of a 0.5 sine ${offline.rms}`);
      const latency = Number(await oscValue(base, '/netbend/audio/latency'));
      // The page said 5 ms; a block is 21 ms, a frame at 30 fps 33 ms; 250 leaves room for a loaded CI machine.
      assert.ok(latency >= 5 && latency < 250, `latency ${latency} ms (the page said 5)`);
      // /netbend/audio/send is off: the features (which changed every frame) never went out over OSC.
      assert.ok(!outgoing.includes('/netbend/audio/low'), 'no feature went out while send is off');
      assert.equal((await p.call({ cmd: 'set', address: '/netbend/audio/send', value: true })).ok, true);
      await until(() => outgoing.includes('/netbend/audio/low'), 'the features go out once send is on', 5000);
      assert.equal((await p.call({ cmd: 'set', address: '/netbend/audio/send', value: false })).ok, true);
      // Silence, then a click: the onset is seen within the bound after it was sent.
      st.signal = () => 0;
      await streamed(st, 0.6);
      let clickAt = 0;
      let click = -1;
      st.signal = (i) => {
        if (click < 0) [click, clickAt] = [i, performance.now()];
        return i - click < 200 ? 0.9 : 0;
      };
      await untilValue(base, '/netbend/audio/onset', (v) => Number(v) > 0.5, 2000);
      const seen = performance.now() - clickAt;
      // Bound: block (21 ms) + a frame at 30 fps (33) + the OSCQuery poll (40) + transport and scheduling.
      assert.ok(seen < 250, `the onset showed ${seen.toFixed(0)} ms after it was sent`);
      console.log(`live audio: low ${low.toFixed(4)} (offline ${offline.low.toFixed(4)}), latency ${latency} ms, onset seen ${seen.toFixed(0)} ms after its send`);
    } finally {
      st.stopped = true;
      await st.done;
    }
    assert.equal((await p.call({ cmd: 'audioCapture', on: false })).ok, true);
    assert.equal(await oscValue(base, '/netbend/audio/capturing'), false);
  } finally {
    p.ws.close();
  }
});

test('hostile PCM: bad headers, wrong lengths, NaN, 1 MB, a flood and a second capturing page are refused and said; the show plays on', LIMIT, async () => {
  const a = wsPage(s.url);
  const b = wsPage(s.url);
  const watcher = wsPage(s.url);
  await Promise.all([a.opened, b.opened, watcher.opened]);
  try {
    const good = encodePcmFrame(0, new Float32Array(BLOCK));
    const bad = (edit: (v: DataView) => void, bytes = good.byteLength) => {
      const buf = new ArrayBuffer(bytes);
      new Uint8Array(buf).set(new Uint8Array(good).subarray(0, Math.min(bytes, good.byteLength)));
      edit(new DataView(buf));
      return buf;
    };
    const cases: Array<[ArrayBuffer, RegExp]> = [
      [bad((v) => v.setUint8(0, 0x42)), /kind 0x42/],
      [bad((v) => v.setUint8(1, 9)), /version 9/],
      [bad(() => {}, 10), /shorter than its 16-byte header/],
      [bad(() => {}, good.byteLength - 4), /bytes for 1024 samples/],
      [bad((v) => v.setUint16(2, 0, true)), /0 samples/],
      [bad((v) => v.setUint16(2, PCM_MAX_SAMPLES + 1, true), PCM_HEADER_BYTES + (PCM_MAX_SAMPLES + 1) * 4), /8193 samples/],
      [bad((v) => v.setFloat64(4, -5, true)), /first sample index -5/],
      [bad((v) => v.setFloat64(4, 1.5, true)), /first sample index 1.5/],
      [bad((v) => v.setFloat32(12, Number.NaN, true)), /latency NaN/],
      [bad((v) => v.setFloat32(PCM_HEADER_BYTES + 40, Number.NaN, true)), /sample 10 is NaN/],
      [bad((v) => v.setFloat32(PCM_HEADER_BYTES, Number.POSITIVE_INFINITY, true)), /sample 0 is Infinity/],
      [bad((v) => v.setFloat32(PCM_HEADER_BYTES, 1e30, true)), /sample 0 is 1.0000000150474662e\+30/],
    ];
    // Each kind of refusal is said once per page (a flood stays a trickle); a fresh page per case names each.
    for (const [buf, want] of cases) {
      const c = wsPage(s.url);
      await c.opened;
      c.ws.send(buf);
      assert.equal((await c.call({ cmd: 'set', address: '/netbend/knobs/k2', value: 0.25 })).ok, true);
      assert.ok(
        c.notices().some((t) => /bad PCM frame/.test(t) && want.test(t)),
        `${want}: ${JSON.stringify(c.notices())}`,
      );
      c.ws.close();
    }
    // None of those started a capture.
    assert.equal(await oscValue(base, '/netbend/audio/capturing'), false);

    // A good block starts a's capture; b is refused, by command and by PCM, until it takes over.
    a.ws.send(good);
    await untilValue(base, '/netbend/audio/capturing', (v) => v === true);
    const refused = await b.call({ cmd: 'audioCapture', on: true });
    assert.equal(refused.ok, false);
    assert.match(refused.error ?? '', /another page is capturing audio/);
    b.ws.send(good);
    assert.equal((await b.call({ cmd: 'set', address: '/netbend/knobs/k2', value: 0.3 })).ok, true);
    assert.ok(
      b.notices().some((t) => /another page is capturing/.test(t)),
      JSON.stringify(b.notices()),
    );
    assert.equal((await b.call({ cmd: 'audioCapture', on: true, takeover: true })).ok, true);
    await until(() => a.messages.some((m) => m.type === 'capture' && !m.on), 'a is told its capture ended');

    // A flood from the capturing page: 400 blocks of 8192 samples (68 s of sound) at once.
    const big = encodePcmFrame(0, new Float32Array(PCM_MAX_SAMPLES).fill(0.25));
    const framesBefore = watcher.frames();
    for (let i = 0; i < 400; i++) b.ws.send(big);
    assert.equal((await b.call({ cmd: 'set', address: '/netbend/knobs/k2', value: 0.35 })).ok, true);
    assert.equal(b.notices().filter((t) => /audio flood/.test(t)).length, 1, JSON.stringify(b.notices()));
    await until(() => watcher.frames() >= framesBefore + 10, 'frames keep coming after the flood');

    // 1 MB in one message: over the socket's limit, that page is closed (1009); the others play on.
    const closed = new Promise<number>((ok) => b.ws.once('close', (code) => ok(code)));
    b.ws.send(new Uint8Array(1 << 20));
    assert.equal(await closed, 1009);
    await untilValue(base, '/netbend/audio/capturing', (v) => v === false);
    const framesLater = watcher.frames();
    await until(() => watcher.frames() >= framesLater + 10, 'frames keep coming after the 1 MB message');
    assert.equal(s.child.exitCode, null);
  } finally {
    for (const c of [a, b, watcher]) c.ws.close();
  }
});

test('no capture: the features take OSC from an analyser elsewhere; out over OSC only on /netbend/audio/send', LIMIT, async () => {
  const { oscSend } = await import('./ui-helpers.ts');
  await oscSend(base, '/netbend/audio/low', 0.75);
  assert.equal(await untilValue(base, '/netbend/audio/low', (v) => v === 0.75), 0.75);
});

test('serve --audio-in: ffmpeg captures on this machine (lavfi as the device): a 60 Hz sine raises low, not high; an absent device is one line', LIMIT, async () => {
  // Refused before the model loads, in one line each.
  for (const [spec, want] of [
    ['nosuchformat:x', /--audio-in nosuchformat:x: ffmpeg has no input format "nosuchformat" here/],
    ['lavfi:nosuchfilter', /--audio-in lavfi:nosuchfilter: ffmpeg could not capture from it/],
    ['default', /expected <ffmpeg input format>:<device>/],
  ] as const) {
    const r = await cli(['serve', MODEL, '--port', '0', '--osc-port', '0', '--no-open', '--audio-in', spec]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const live = await startServe(MODEL, ['--audio-in', 'lavfi:aevalsrc=0.5*sin(2*PI*60*t):s=48000']);
  try {
    const b = live.url.replace(/\/(\?.*)?$/, '');
    assert.equal(await untilValue(b, '/netbend/audio/capturing', (v) => v === true), true);
    const offline = new AudioAnalyser(new PcmBuffer(Float32Array.from({ length: 2 * AUDIO_RATE }, (_, i) => sine(60, 0.5)(i)))).at(1.5);
    const low = Number(await untilValue(b, '/netbend/audio/low', (v) => Math.abs(Number(v) - offline.low) < 0.03 * offline.low, 10_000));
    assert.ok(Math.abs(low - offline.low) < 0.03 * offline.low, `low ${low} from ffmpeg, ${offline.low} offline`);
    const high = Number(await oscValue(b, '/netbend/audio/high'));
    assert.ok(high < 0.01, `high ${high} for a 60 Hz sine`);
    // A page takes over: the ffmpeg capture stops (said), the page's blocks drive the features.
    const p = wsPage(live.url);
    await p.opened;
    assert.equal((await p.call({ cmd: 'audioCapture', on: true, takeover: true })).ok, true);
    // A silent page: while it captures, low falls away from the sine's.
    const silence = new Float32Array(1024);
    let sent = 0;
    // Sent at the pace of sound (1024 samples every 21.3 ms), as a page's capture sends.
    const pace = setInterval(() => p.ws.send(encodePcmFrame(sent++ * 1024, silence)), (1024 / AUDIO_RATE) * 1000);
    try {
      assert.ok(Number(await untilValue(b, '/netbend/audio/low', (v) => Number(v) < 0.1 * offline.low, 10_000)) < 0.1 * offline.low, 'the page drives the features');
    } finally {
      clearInterval(pace);
    }
    // The page goes: the machine's capture is the house input and comes back on its own.
    p.ws.close();
    const back = Number(await untilValue(b, '/netbend/audio/low', (v) => Math.abs(Number(v) - offline.low) < 0.03 * offline.low, 15_000));
    assert.ok(Math.abs(back - offline.low) < 0.03 * offline.low, `low ${back} once ffmpeg captures again`);
    assert.equal(await oscValue(b, '/netbend/audio/capturing'), true);
  } finally {
    await live.stop();
  }
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecorderError, decodeFrames, listEncoders, probeVideo, startRecording, type Recording } from '../app/record/video-recorder.ts';

const RECORDER = fileURLToPath(new URL('../app/record/video-recorder.ts', import.meta.url));
const W = 64;
const H = 64;

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'netbend-record-'));
  dirs.push(d);
  return d;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A frame whose gray level encodes `level`, with a white marker square (so frames differ in structure too). */
function frame(level: number, w = W, h = H): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    px[i * 4] = px[i * 4 + 1] = px[i * 4 + 2] = level;
    px[i * 4 + 3] = 255;
  }
  return px;
}

/** Mean of the red channel: survives lossy coding to within a few levels. */
function meanLevel(rgba: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < rgba.length; i += 4) sum += rgba[i]!;
  return sum / (rgba.length / 4);
}

/** Writes frames at the pace ffmpeg accepts them (what an offline render would do). */
async function writeAll(rec: Recording, frames: [level: number, index: number][], w = W, h = H): Promise<void> {
  for (const [level, index] of frames) {
    await rec.ready();
    rec.writeFrame(frame(level, w, h), index);
  }
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('video recorder (system ffmpeg)', () => {
  test('H.264: 24 frames at 12 fps, CFR, faststart MP4 replacing an earlier file only at stop()', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'take.mp4');
    await writeFile(out, 'earlier recording');
    const rec = await startRecording({ path: out, format: 'h264', width: W, height: H, fps: 12 });
    await writeAll(
      rec,
      Array.from({ length: 24 }, (_, i) => [i * 10, i] as [number, number]),
    );
    assert.equal(await readFile(out, 'utf8'), 'earlier recording', 'target untouched while recording');
    const summary = await rec.stop();
    assert.deepEqual(
      { frames: summary.frames, filled: summary.filled, skipped: summary.skipped, seconds: summary.seconds, path: summary.path },
      { frames: 24, filled: 0, skipped: 0, seconds: 2, path: out },
    );
    assert.equal(summary.remuxed, true);
    assert.deepEqual(await probeVideo(out), { frames: 24, width: 64, height: 64, codec: 'h264', fps: 12 });
    const head = (await readFile(out)).subarray(0, 64).toString('latin1');
    assert.ok(head.indexOf('moov') > 0 && !head.includes('moof'), 'regular MP4 with moov first');
    assert.equal(await exists(rec.partialPath), false, 'partial removed');
    const decoded = await decodeFrames(out, W, H);
    assert.equal(decoded.length, 24);
    decoded.forEach((f, i) => assert.ok(Math.abs(meanLevel(f) - i * 10) < 4, `frame ${i}: ${meanLevel(f)} vs ${i * 10}`));
  });

  test('index gaps are filled by repeating the previous frame: 0,1,2,5,6 -> 7 frames, filled 2', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'gaps.mp4');
    const rec = await startRecording({ path: out, width: W, height: H, fps: 12 });
    await writeAll(rec, [
      [0, 0],
      [40, 1],
      [80, 2],
      [160, 5],
      [200, 6],
    ]);
    const summary = await rec.stop();
    assert.equal(summary.frames, 7);
    assert.equal(summary.filled, 2);
    assert.equal((await probeVideo(out)).frames, 7);
    const levels = (await decodeFrames(out, W, H)).map((f) => Math.round(meanLevel(f) / 40) * 40);
    assert.deepEqual(levels, [0, 40, 80, 80, 80, 160, 200]);
  });

  test('odd sizes are padded to even for H.264 and cropped back by decodeFrames', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'odd.mp4');
    const rec = await startRecording({ path: out, width: 63, height: 37, fps: 10 });
    await writeAll(
      rec,
      [
        [50, 0],
        [100, 1],
        [150, 2],
      ],
      63,
      37,
    );
    await rec.stop();
    const info = await probeVideo(out);
    assert.deepEqual([info.frames, info.width, info.height], [3, 64, 38]);
    const decoded = await decodeFrames(out, 63, 37);
    assert.equal(decoded[0]!.length, 63 * 37 * 4);
    assert.ok(Math.abs(meanLevel(decoded[2]!) - 150) < 4);
  });

  test('ProRes 422 MOV probes as prores', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'take.mov');
    const rec = await startRecording({ path: out, format: 'prores', width: W, height: H, fps: 25 });
    await writeAll(
      rec,
      Array.from({ length: 10 }, (_, i) => [i * 20, i] as [number, number]),
    );
    const summary = await rec.stop();
    assert.equal(summary.frames, 10);
    assert.deepEqual(await probeVideo(out), { frames: 10, width: 64, height: 64, codec: 'prores', fps: 25 });
  });

  test('PNG sequence: frame-00000.png ... in the folder, lossless, gaps filled', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'frames');
    const rec = await startRecording({ path: out, format: 'png', width: W, height: H, fps: 30 });
    await writeAll(rec, [
      [10, 0],
      [20, 1],
      [30, 3],
    ]);
    const summary = await rec.stop();
    assert.deepEqual([summary.frames, summary.filled], [4, 1]);
    assert.deepEqual((await readdir(out)).sort(), ['frame-00000.png', 'frame-00001.png', 'frame-00002.png', 'frame-00003.png']);
    assert.equal(await exists(rec.partialPath), false);
    const info = await probeVideo(out);
    assert.deepEqual([info.frames, info.width, info.height, info.codec], [4, 64, 64, 'png']);
    const decoded = await decodeFrames(out, W, H);
    const expected = [10, 20, 20, 30].map((level) => frame(level));
    assert.equal(decoded.length, 4);
    decoded.forEach((f, i) => assert.ok(Buffer.from(f).equals(Buffer.from(expected[i]!)), `PNG frame ${i} is bit-exact`));
  });

  test('HAP: records when this ffmpeg has the encoder, else a clear error', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'take.mov');
    const opts = { path: out, format: 'hap' as const, width: 62, height: 30, fps: 30 };
    if ((await listEncoders()).has('hap')) {
      const rec = await startRecording(opts);
      await writeAll(
        rec,
        [
          [0, 0],
          [128, 1],
          [255, 2],
        ],
        62,
        30,
      );
      await rec.stop();
      const info = await probeVideo(out);
      assert.deepEqual([info.frames, info.width, info.height, info.codec], [3, 64, 32, 'hap']);
    } else {
      await assert.rejects(startRecording(opts), (e: RecorderError) => e.code === 'ENCODER_UNAVAILABLE' && /no HAP encoder/.test(e.message));
    }
  });

  test('faster than ffmpeg: the queue stays bounded, skipped frames are filled, nothing blocks', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'burst.mp4');
    const rec = await startRecording({ path: out, width: W, height: H, fps: 30, maxQueuedFrames: 3 });
    const px = frame(90);
    let maxQueued = 0;
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      rec.writeFrame(px, i); // one synchronous burst: ffmpeg cannot read anything meanwhile
      maxQueued = Math.max(maxQueued, rec.stats().queued);
    }
    assert.ok(performance.now() - t0 < 500, 'writeFrame does not block');
    assert.ok(maxQueued <= 3, `queue bounded (max ${maxQueued})`);
    const summary = await rec.stop();
    assert.equal(summary.frames, 300);
    assert.ok(summary.skipped > 250, `skipped ${summary.skipped}`);
    assert.equal(summary.filled, summary.skipped);
    assert.equal((await probeVideo(out)).frames, 300);
  });

  test('crash safety: SIGKILL of the recording process leaves a playable partial, earlier file intact', async (t) => {
    const dir = await tempDir();
    // (a) netbend and ffmpeg both killed; (b) only netbend killed, ffmpeg finishes on stdin EOF.
    const runs = await Promise.all(
      ['both', 'node'].map(async (kill) => {
        const out = path.join(dir, `crash-${kill}.mp4`);
        await writeFile(out, 'earlier recording');
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            `
        import { startRecording } from ${JSON.stringify(pathToFileURL(RECORDER).href)};
        const rec = await startRecording({ path: ${JSON.stringify(out)}, width: ${W}, height: ${H}, fps: 30 });
        console.log(JSON.stringify({ pid: rec.pid, partial: rec.partialPath }));
        const px = new Uint8Array(${W * H * 4});
        let i = 0;
        setInterval(() => { px.fill(i % 256); rec.writeFrame(px, i++); }, 5);
      `,
          ],
          { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const started = await new Promise<{ pid: number; partial: string }>((resolve, reject) => {
          child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString())));
          child.once('exit', (code) => reject(new Error(`recording child exited early (${code})`)));
        });
        await new Promise((r) => setTimeout(r, 1500));
        child.kill('SIGKILL');
        if (kill === 'both') process.kill(started.pid, 'SIGKILL');
        await waitForExit(started.pid);
        return { out, ...started };
      }),
    );
    for (const { out, partial } of runs) {
      assert.equal(await readFile(out, 'utf8'), 'earlier recording', 'earlier recording untouched');
      const info = await probeVideo(partial);
      assert.equal(info.codec, 'h264');
      assert.ok(info.frames > 0, `partial has ${info.frames} frames`);
      t.diagnostic(`${path.basename(partial)}: ${info.frames} frames playable after SIGKILL`);
    }
    // The next recording to the same path keeps the crashed take instead of overwriting it.
    const again = await startRecording({ path: runs[0]!.out, width: W, height: H, fps: 30 });
    await again.abort();
    assert.ok(await exists(path.join(dir, 'crash-both.recovered-1.mp4')));
  });

  test('ffmpeg dying mid-recording: reported once via onError, writeFrame keeps not throwing, stop() rejects', async () => {
    const dir = await tempDir();
    const errors: Error[] = [];
    const rec = await startRecording({ path: path.join(dir, 'dies.mp4'), width: W, height: H, fps: 30, onError: (e) => errors.push(e) });
    await writeAll(rec, [
      [0, 0],
      [50, 1],
    ]);
    process.kill(rec.pid!, 'SIGKILL');
    for (let i = 2; errors.length === 0 && i < 400; i++) {
      rec.writeFrame(frame(i % 256), i);
      await new Promise((r) => setTimeout(r, 5));
    }
    rec.writeFrame(frame(0), 1000);
    rec.writeFrame(new Uint8Array(3), 1001);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /ffmpeg was killed by SIGKILL/);
    await assert.rejects(rec.stop(), (e) => e === errors[0]);
  });

  test('wrong frame size ends the recording with a clear error instead of throwing', async () => {
    const dir = await tempDir();
    const errors: Error[] = [];
    const rec = await startRecording({ path: path.join(dir, 'bad.mp4'), width: W, height: H, fps: 30, onError: (e) => errors.push(e) });
    rec.writeFrame(new Uint8Array(10), 0);
    rec.writeFrame(frame(0), 1);
    assert.equal(errors.length, 0, 'onError is not called inside the frame loop');
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /expected 64x64 RGBA/);
    await assert.rejects(rec.stop(), /expected 64x64 RGBA/);
  });

  test('abort() discards the partial and leaves the target alone', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'aborted.mp4');
    const rec = await startRecording({ path: out, width: W, height: H, fps: 30 });
    await writeAll(rec, [
      [0, 0],
      [1, 1],
    ]);
    await rec.abort();
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(rec.stop(), (e: RecorderError) => e.code === 'ABORTED');
  });

  test('missing ffmpeg: startRecording rejects saying ffmpeg was not found and how to install it', async () => {
    const dir = await tempDir();
    await assert.rejects(
      startRecording({ path: path.join(dir, 'x.mp4'), width: W, height: H, fps: 30, ffmpegPath: '/nonexistent/ffmpeg' }),
      (e: RecorderError) => e.code === 'FFMPEG_NOT_FOUND' && /ffmpeg was not found/.test(e.message) && /apt install ffmpeg/.test(e.message) && /brew install ffmpeg/.test(e.message),
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

/** Waits until a process we started is gone (or a zombie nobody has reaped yet). */
async function waitForExit(pid: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
      const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (/^\d+ \(.*\) Z/.test(st)) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} still running after ${timeoutMs} ms`);
}

// Issue 6: offline renders are exact (frame count, size) and repeatable; ffmpeg trouble is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, ROOT, tempDir } from './helpers.ts';
import { decodeFrames, probeVideo } from '../app/record/video-recorder.ts';

const PRESET = join(ROOT, 'presets', 'drift.json');

test('render 2 s at 12 fps and 64x64 gives 24 H.264 frames, identical across renders', async (t) => {
  const dir = tempDir(t);
  const outs = [join(dir, 'a.mp4'), join(dir, 'b.mp4')];
  // Two renders side by side: nothing one does may leak into the other.
  const runs = await Promise.all(outs.map((out) => cli(['render', PRESET, '--seconds', '2', '--fps', '12', '--size', '64x64', '--ep', 'cpu', '--out', out])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const info = await probeVideo(outs[0]!);
  assert.equal(info.codec, 'h264');
  assert.equal(info.frames, 24);
  assert.equal(info.width, 64);
  assert.equal(info.height, 64);
  const [a, b] = await Promise.all(outs.map((o) => decodeFrames(o, 64, 64)));
  assert.equal(a!.length, 24);
  for (let i = 0; i < 24; i++) assert.deepEqual(a![i], b![i], `frame ${i} identical`);
  assert.notDeepEqual(a![0], a![23], 'the clip moves');
});

test('render with ffmpeg missing says so and exits non-zero', async (t) => {
  const dir = tempDir(t);
  const r = await cli(['render', PRESET, '--seconds', '1', '--fps', '4', '--ep', 'cpu', '--out', join(dir, 'x.mp4')], { FFMPEG_PATH: join(dir, 'no-ffmpeg-here') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ffmpeg/i);
  assert.match(r.stderr, /not found|install/i);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

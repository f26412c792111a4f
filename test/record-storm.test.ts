// Recording that no toggle storm can break: the desk in-process with the real recorder, and a real
// `netbend serve` hammered over UDP OSC, watched through /proc for ffmpeg processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import oscModule from 'osc-js';
import { RecordingDesk, type DeskEvent } from '../app/server/recording-desk.ts';
import { partialPathFor, probeVideo } from '../app/record/video-recorder.ts';
import { ffmpegTakes } from '../app/record/take-recorder.ts';
import { ROOT, fixture, startServe, tempDir } from './helpers.ts';

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;
const RECORD = '/netbend/record/on';
const W = 64;
const H = 64;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it returns something truthy; fails naming `what` after `ms`. */
async function waitFor<T>(cond: () => T | Promise<T>, ms: number, what: string | (() => string)): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v as Exclude<T, false | 0 | '' | null | undefined>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await delay(25);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
}

/** `/proc/...` text, or '' for a process that has just gone. */
function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Every process on the machine, from /proc/N/stat (zombies included; callers skip them).
 * Synchronous on purpose: a scan takes ~2 ms this way and ten times that through the thread pool,
 * which would leave the sampler too slow to catch short overlaps.
 */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const [state, ppid] = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(name), ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close), state: state ?? '' });
  }
  return out;
}

/** Whether `pid` is a live process (a zombie that its new parent has not reaped yet is not). */
function isRunning(pid: number): boolean {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** ffmpeg processes that `parent` started and that are still running (not zombies waiting to be reaped). */
function ffmpegChildren(parent: number): number[] {
  return processes()
    .filter((p) => p.ppid === parent && p.comm === 'ffmpeg' && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Running ffmpeg processes, anyone's, whose command line names `dir` (outlives the parent: orphans too). */
function ffmpegWorkingIn(dir: string): number[] {
  return processes()
    .filter((p) => p.comm === 'ffmpeg' && p.state !== 'Z' && readProc(`/proc/${p.pid}/cmdline`).includes(dir))
    .map((p) => p.pid);
}

/** Samples a process's running ffmpeg children as often as the machine allows, keeping the worst count. */
function watchFfmpegChildren(parent: number): { most: () => number; samples: () => number; stop: () => Promise<void> } {
  let most = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      most = Math.max(most, ffmpegChildren(parent).length);
      samples++;
      await delay(5);
    }
  })();
  return {
    most: () => most,
    samples: () => samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Checks that takes never overlap and each one that started ended once (saved, empty, lost or broke); returns the started paths. */
function checkTakeSequence(events: DeskEvent[]): string[] {
  const started: string[] = [];
  let open: string | undefined;
  for (const e of events) {
    if (e.kind === 'started') {
      assert.equal(open, undefined, `take ${e.path} started while ${open} was still open`);
      open = e.path;
      started.push(e.path);
    } else if (e.kind !== 'refused') {
      const p = e.kind === 'saved' ? e.summary.path : e.path;
      assert.equal(p, open, `end of ${p} without it being the open take`);
      open = undefined;
    }
  }
  assert.equal(open, undefined, 'the last take ended');
  assert.equal(new Set(started).size, started.length, 'every take has its own file name');
  return started;
}

/** Files in `dir` that are (or were meant to be) recordings, and the partials left there. */
async function takeFiles(dir: string): Promise<{ takes: string[]; partials: string[] }> {
  const names = (await readdir(dir)).sort();
  // A take's performance log (<take>.take.json) lies beside its video: not a recording.
  const recordings = names.filter((n) => !n.endsWith('.take.json'));
  return { takes: recordings.filter((n) => !n.includes('.partial')), partials: recordings.filter((n) => n.includes('.partial')) };
}

async function assertPlayable(dir: string, names: string[]): Promise<number[]> {
  const frames: number[] = [];
  for (const n of names) {
    const info = await probeVideo(path.join(dir, n));
    assert.equal(info.codec, 'h264', n);
    assert.ok(info.frames > 0, `${n} has ${info.frames} frames`);
    frames.push(info.frames);
  }
  return frames;
}

describe('recording desk (in-process, real ffmpeg)', () => {
  test('overlapping set() calls end in the last wish, with one take per on-period that started and never two encoders', { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-desk-');
    const events: DeskEvent[] = [];
    const desk = new RecordingDesk({ recorder: ffmpegTakes({ dir }), shape: () => ({ width: W, height: H, fps: 30 }), onEvent: (e) => events.push(e) });
    const watch = watchFfmpegChildren(process.pid);
    const px = new Uint8Array(W * H * 4);
    let index = 0;
    const pump = setInterval(() => {
      px.fill(index % 256);
      desk.writeFrame(px, index++);
    }, 10);
    try {
      // A burst with nothing awaited in between collapses into the last wish: one take.
      await withTimeout(Promise.all([true, false, true, false, true].map((on) => desk.set(on))), 30_000, 'the burst to settle');
      assert.equal(desk.recording, true);
      assert.equal(events.filter((e) => e.kind === 'started').length, 1, 'one take for the whole burst');
      await waitFor(() => (desk.stats()?.frames ?? 0) >= 10, 20_000, 'the take to get 10 frames');

      // Wishes at random moments, overlapping starts and stops (a fixed seed: the same storm every run).
      let seed = 9;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pending: Promise<void>[] = [];
      let last = true;
      for (let k = 0; k < 40; k++) {
        last = random() < 0.5;
        pending.push(desk.set(last));
        await delay(Math.floor(random() * 40));
      }
      await withTimeout(Promise.all(pending), 60_000, 'the random wishes to settle');
      assert.equal(desk.recording, last, 'the last wish holds');

      await withTimeout(desk.set(false), 30_000, 'the last stop');
      assert.equal(desk.recording, false);
      assert.equal(desk.stats(), null);
    } finally {
      clearInterval(pump);
      await desk.close();
      await watch.stop();
    }
    assert.ok(watch.samples() > 20, `sampled ${watch.samples()} times`);
    assert.ok(watch.most() <= 1, `at most one ffmpeg at a time (saw ${watch.most()})`);
    assert.deepEqual(ffmpegChildren(process.pid), [], 'no ffmpeg left');
    assert.deepEqual(
      events.filter((e) => e.kind === 'lost' || e.kind === 'refused' || e.kind === 'broke'),
      [],
    );
    const started = checkTakeSequence(events);
    const saved = events.flatMap((e) => (e.kind === 'saved' ? [path.basename(e.summary.path)] : []));
    const { takes, partials } = await takeFiles(dir);
    assert.deepEqual(partials, []);
    assert.deepEqual(takes, [...saved].sort(), 'one file per saved take, nothing else');
    assert.ok(saved.length >= 1);
    await assertPlayable(dir, takes);
    t.diagnostic(`${started.length} takes started, ${saved.length} saved, ${started.length - saved.length} ended before their first frame`);
  });

  test('a take whose ffmpeg dies turns the desk off once, leaves no ffmpeg, and the next take gets a new file', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-desk-');
    const events: DeskEvent[] = [];
    const desk = new RecordingDesk({ recorder: ffmpegTakes({ dir }), shape: () => ({ width: W, height: H, fps: 30 }), onEvent: (e) => events.push(e) });
    const px = new Uint8Array(W * H * 4);
    let index = 0;
    const pump = setInterval(() => desk.writeFrame(px, index++), 10);
    try {
      await desk.set(true);
      const [encoder] = await waitFor(async () => ffmpegChildren(process.pid).length === 1 && ffmpegChildren(process.pid), 10_000, 'the encoder');
      process.kill(encoder!, 'SIGKILL');
      await waitFor(() => events.some((e) => e.kind === 'broke'), 10_000, "the desk to notice ffmpeg's death");
      assert.equal(desk.recording, false);
      await waitFor(async () => ffmpegChildren(process.pid).length === 0, 10_000, 'no ffmpeg');
      await desk.set(true);
      assert.equal(desk.recording, true, 'a new take starts after a broken one');
      await waitFor(() => (desk.stats()?.frames ?? 0) >= 5, 10_000, 'frames in the new take');
    } finally {
      clearInterval(pump);
      await desk.close();
    }
    assert.deepEqual(ffmpegChildren(process.pid), []);
    assert.equal(events.filter((e) => e.kind === 'broke').length, 1, 'reported once');
    const started = checkTakeSequence(events);
    assert.equal(started.length, 2);
    assert.notEqual(started[0], started[1]);
    const saved = events.flatMap((e) => (e.kind === 'saved' ? [e.summary.path] : []));
    assert.deepEqual(saved, [started[1]]);
    await assertPlayable(dir, [path.basename(started[1]!)]);
  });

  test('a take that cannot start is refused once and the desk stays off', async (t) => {
    const dir = tempDir(t, 'netbend-desk-');
    const events: DeskEvent[] = [];
    const desk = new RecordingDesk({ recorder: ffmpegTakes({ dir, ffmpegPath: '/nonexistent/ffmpeg' }), shape: () => ({ width: W, height: H, fps: 30 }), onEvent: (e) => events.push(e) });
    await desk.set(true);
    assert.equal(desk.recording, false);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['refused'],
    );
    assert.match((events[0] as { error: Error }).error.message, /ffmpeg was not found/);
    await desk.close();
    assert.deepEqual(await readdir(dir), []);
  });
});

test('a process that exits without closing its desk takes its ffmpeg with it; the partial stays playable', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, 'netbend-exit-');
  const desk = pathToFileURL(path.join(ROOT, 'app', 'server', 'recording-desk.ts')).href;
  const takes = pathToFileURL(path.join(ROOT, 'app', 'record', 'take-recorder.ts')).href;
  // A show that dies by process.exit() mid-take, told when to by the test (once frames are on disk).
  // HD frames faster than ffmpeg encodes them: on stdin EOF it would need a while to finish the
  // backlog, so only the exit hook can explain an encoder that is gone the moment the show is.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `
    import { RecordingDesk } from ${JSON.stringify(desk)};
    import { ffmpegTakes } from ${JSON.stringify(takes)};
    const desk = new RecordingDesk({ recorder: ffmpegTakes({ dir: ${JSON.stringify(dir)} }), shape: () => ({ width: 1280, height: 720, fps: 30 }), onEvent: (e) => process.send(e) });
    await desk.set(true);
    const px = new Uint8Array(1280 * 720 * 4);
    let i = 0;
    setInterval(() => { px.fill(i % 256); desk.writeFrame(px, i++); }, 5);
    process.on('message', () => process.exit(0));
  `,
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const gone = exited(child);
  const started = await withTimeout(new Promise<DeskEvent>((r) => child.once('message', (e) => r(e as DeskEvent))), 20_000, 'the take to start');
  assert.equal(started.kind, 'started');
  const take = (started as { path: string }).path;
  const encoder = await waitFor(() => ffmpegChildren(child.pid!)[0], 10_000, 'the encoder');
  await waitFor(async () => ((await probeVideo(partialPathFor(take, 'h264')).catch(() => null))?.frames ?? 0) > 0, 30_000, 'frames in the partial');
  // Looked at the moment the exit is seen: without the exit hook ffmpeg would still be finishing on EOF.
  const leftAtExit = new Promise<number[]>((r) => child.once('exit', () => r(ffmpegWorkingIn(dir))));
  child.send('exit');
  assert.deepEqual(await withTimeout(gone, 20_000, 'the process to exit'), { code: 0, signal: null });
  assert.deepEqual(await leftAtExit, [], 'no ffmpeg outlived the process');
  assert.equal(isRunning(encoder), false, 'the encoder is gone');
  const info = await probeVideo(partialPathFor(take, 'h264'));
  assert.ok(info.frames > 0, `the partial has ${info.frames} frames`);
});

/** The serve's stderr notices about takes, as they come. */
function takeNotices(child: import('node:child_process').ChildProcess) {
  let text = '';
  child.stderr!.on('data', (d) => (text += d));
  const all = (re: RegExp) => [...text.matchAll(re)].map((m) => m[1]!);
  return {
    text: () => text,
    started: () => all(/netbend: recording to (\S+)/g),
    saved: () => all(/netbend: recorded \d+ frames \(\d+ filled\) to (\S+)/g),
    ended: () => all(/netbend: (?:recorded \d+ frames \(\d+ filled\) to|take) (\S+)/g),
    errors: () => all(/netbend: error: (.*)/g),
  };
}

async function oscSender(base: string) {
  const info = (await (await fetch(`${base}/?HOST_INFO`)).json()) as { OSC_PORT: number };
  const udp = dgram.createSocket('udp4');
  return {
    send: (address: string, value: boolean) => new Promise<void>((r) => udp.send(new OSC.Message(address, value).pack(), info.OSC_PORT, '127.0.0.1', () => r())),
    close: () => udp.close(),
  };
}

const recordValue = async (base: string) => ((await (await fetch(`${base}${RECORD}?VALUE`)).json()) as { VALUE: [boolean] }).VALUE[0];

function exited(child: import('node:child_process').ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

describe('netbend serve recording under abuse', () => {
  test('50 record toggles within one second over OSC: never two ffmpeg, none left, every take distinct and playable', { timeout: 180_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-storm-');
    const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--record-dir', dir]);
    const log = takeNotices(s.child);
    const watch = watchFfmpegChildren(s.child.pid!);
    const base = s.url.replace(/\/$/, '');
    const osc = await oscSender(base);
    // On at even steps, off at odd ones: the 50th is "off". Paced by the clock, not by each send.
    const storm = async () => {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) {
        const due = t0 + i * 19 - performance.now();
        if (due > 0) await delay(due);
        await osc.send(RECORD, i % 2 === 0);
      }
      const took = performance.now() - t0;
      assert.ok(took < 1000, `50 toggles took ${took.toFixed(0)} ms`);
      await waitFor(async () => (await recordValue(base)) === false, 10_000, 'the RECORD switch to read off');
      // Settled: every take that started has ended, no encoder or remux runs, no partial is left.
      await waitFor(
        async () => {
          assert.ok(watch.most() <= 1, `at most one ffmpeg child at a time (saw ${watch.most()})\n${log.text()}`);
          const { partials } = await takeFiles(dir);
          return log.started().length === log.ended().length && partials.length === 0 && ffmpegChildren(s.child.pid!).length === 0;
        },
        60_000,
        () => `every take to end\n${log.text()}`,
      );
      assert.ok(watch.most() <= 1, `at most one ffmpeg child at a time (saw ${watch.most()})`);
    };
    try {
      // From idle: takes start and stop under the storm (most end before their first frame).
      await storm();
      // Over a take that has frames on disk: it must be finished once, whatever follows.
      await osc.send(RECORD, true);
      const held = await waitFor(() => log.started().length > log.ended().length && log.started().at(-1), 20_000, 'the held take to start');
      await waitFor(
        async () => ((await probeVideo(partialPathFor(held, 'h264')).catch(() => null))?.frames ?? 0) > 0,
        30_000,
        () => `frames in the held take\n${log.text()}`,
      );
      await storm();
      assert.ok(log.saved().includes(held), `the held take ${held} was saved`);
    } finally {
      osc.close();
    }
    const started = log.started();
    const { takes } = await takeFiles(dir);
    await s.stop();
    await watch.stop();

    assert.deepEqual(log.errors(), [], 'no recording errors');
    assert.ok(started.length >= 2, 'the storms started takes');
    assert.equal(new Set(started).size, started.length, 'every take has its own name');
    assert.ok(watch.samples() > 20, `sampled ${watch.samples()} times`);
    assert.ok(watch.most() <= 1, `at most one ffmpeg child at a time (saw ${watch.most()})`);
    assert.deepEqual(ffmpegWorkingIn(dir), [], 'no ffmpeg left after the serve exited');
    const after = await takeFiles(dir);
    assert.deepEqual(after, { takes, partials: [] }, 'nothing changed while the serve closed');
    const saved = log
      .saved()
      .map((p) => path.basename(p))
      .sort();
    assert.deepEqual(takes, saved, 'the files are exactly the saved takes');
    const frames = await assertPlayable(dir, takes);
    t.diagnostic(`${started.length} takes started, ${takes.length} saved (frames ${frames.join(', ')}), most ffmpeg at once ${watch.most()} over ${watch.samples()} samples`);
  });

  test('SIGTERM during a take: the serve finishes the file and leaves no ffmpeg', { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-sigterm-');
    const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--record-dir', dir]);
    const log = takeNotices(s.child);
    const osc = await oscSender(s.url.replace(/\/$/, ''));
    let take: string;
    let encoders: number[];
    try {
      await osc.send(RECORD, true);
      take = (await waitFor(() => log.started().length > 0 && log.started(), 20_000, 'the take to start'))[0]!;
      // Wait until a fragment with frames is on disk, so there is something to keep.
      await waitFor(async () => ((await probeVideo(partialPathFor(take, 'h264')).catch(() => null))?.frames ?? 0) > 0, 30_000, 'frames in the partial');
      encoders = ffmpegChildren(s.child.pid!);
      assert.equal(encoders.length, 1, 'one encoder');
    } finally {
      osc.close();
    }
    const gone = exited(s.child);
    s.child.kill('SIGTERM');
    const { code } = await withTimeout(gone, 30_000, 'the serve to exit on SIGTERM');
    assert.equal(code, 0, log.text());
    assert.deepEqual(ffmpegWorkingIn(dir), [], 'no ffmpeg left');
    for (const pid of encoders) assert.equal(isRunning(pid), false, `encoder ${pid} is gone`);
    assert.deepEqual(await takeFiles(dir), { takes: [path.basename(take)], partials: [] });
    const [frames] = await assertPlayable(dir, [path.basename(take)]);
    assert.match(log.text(), /recorded \d+ frames/);
    t.diagnostic(`${frames} frames saved on SIGTERM`);
  });

  test('a take whose ffmpeg dies sets the RECORD switch back to off and leaves no ffmpeg', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-broke-');
    const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--record-dir', dir]);
    const log = takeNotices(s.child);
    const base = s.url.replace(/\/$/, '');
    const osc = await oscSender(base);
    try {
      await osc.send(RECORD, true);
      const encoder = await waitFor(() => log.started().length > 0 && ffmpegChildren(s.child.pid!)[0], 20_000, 'the encoder');
      assert.equal(await recordValue(base), true);
      process.kill(encoder, 'SIGKILL');
      await waitFor(() => log.errors().length > 0, 10_000, 'the failure notice');
      assert.match(log.errors()[0]!, /recording stopped: ffmpeg was killed by SIGKILL/);
      await waitFor(async () => (await recordValue(base)) === false, 10_000, 'the RECORD switch to read off');
      await waitFor(() => ffmpegChildren(s.child.pid!).length === 0, 10_000, 'no ffmpeg');
    } finally {
      osc.close();
      await s.stop();
    }
    assert.deepEqual(ffmpegWorkingIn(dir), []);
  });

  test('a take that cannot start sets the RECORD switch back to off', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, 'netbend-refused-');
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, 'a file where the record folder should be');
    const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--record-dir', path.join(blocker, 'takes')]);
    const log = takeNotices(s.child);
    const base = s.url.replace(/\/$/, '');
    const osc = await oscSender(base);
    try {
      await osc.send(RECORD, true);
      await waitFor(() => log.errors().length > 0, 20_000, 'the refusal');
      assert.match(log.errors()[0]!, /cannot record: .*ENOTDIR/);
      await waitFor(async () => (await recordValue(base)) === false, 10_000, 'the RECORD switch to read off');
      assert.deepEqual(ffmpegChildren(s.child.pid!), []);
    } finally {
      osc.close();
      await s.stop();
    }
  });
});

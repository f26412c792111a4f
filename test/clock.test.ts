// The live clock on an injected wall clock: a render that takes longer than its slot is followed at
// once by the slot that came due meanwhile (late by less than a slot), and only slots more than one
// behind are dropped; frames keep their slot times. Time moves only when a "render" says so, so
// the schedule is checked exactly, with no real waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveClock, type FrameTime } from '../app/engine/clock.ts';

/** Plays `frames` frames on a 30 fps LiveClock whose every render takes `renderMs` of wall time. */
async function schedule(renderMs: number, frames: number): Promise<{ ticks: FrameTime[]; starts: number[]; dropped: number }> {
  let now = 0;
  const clock = new LiveClock(30, () => now / 1000);
  const ticks: FrameTime[] = [];
  const starts: number[] = [];
  await clock.run(async (t) => {
    ticks.push(t);
    starts.push(now);
    now += renderMs;
    if (ticks.length === frames) clock.stop();
  });
  return { ticks, starts, dropped: clock.dropped };
}

test('a render just over its slot: the next slot renders at once, late; one slot in ~8 dropped, not every other', async () => {
  const { ticks, starts, dropped } = await schedule(37, 40);
  const slot = 1000 / 30;
  for (const [i, t] of ticks.entries()) {
    assert.ok(Math.abs(t.time - t.index / 30) < 1e-9, 'a frame keeps its slot time');
    // Started the moment the previous render ended, never before its slot, and late by less than a slot.
    if (i > 0) assert.equal(starts[i], starts[i - 1]! + 37);
    assert.ok(starts[i]! >= t.index * slot - 1e-6 && starts[i]! < (t.index + 1) * slot, `frame ${i} (slot ${t.index}) started at ${starts[i]} ms`);
  }
  const last = ticks.at(-1)!.index;
  assert.equal(dropped, last + 1 - ticks.length);
  // 37 ms renders on 33.3 ms slots fall one slot behind every 1 / (37/33.3 - 1) ~ 9 frames.
  assert.ok(dropped >= 3 && dropped <= 5, `dropped ${dropped} of ${last + 1} slots`);
});

test('renders within their slot: every slot plays, each at its slot time', async () => {
  let now = 0;
  const clock = new LiveClock(30, () => now / 1000);
  const ticks: FrameTime[] = [];
  await clock.run(async (t) => {
    ticks.push(t);
    // The render took 10 ms, then the wait until the next slot passes (as a real wait would).
    now = Math.max(now + 10, ((t.index + 1) * 1000) / 30 + 0.5);
    if (ticks.length === 20) clock.stop();
  });
  assert.deepEqual(
    ticks.map((t) => t.index),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(clock.dropped, 0);
});

test('a stall of several slots drops all but the newest due slot, which plays at once', async () => {
  let now = 0;
  const clock = new LiveClock(30, () => now / 1000);
  const ticks: FrameTime[] = [];
  await clock.run(async (t) => {
    ticks.push(t);
    now += t.index === 3 ? 200 : 0; // frame 3 stalls 200 ms (6 slots)
    if (t.index < 3) now = ((t.index + 1) * 1000) / 30 + 0.1;
    if (ticks.length === 6) clock.stop();
  });
  const i = ticks.findIndex((t) => t.index === 3);
  // 200 ms after slot 3 (100 ms) is 300 ms: slot 9 is due; 4..8 are dropped.
  assert.equal(ticks[i + 1]!.index, 9);
  assert.equal(clock.dropped, 5);
});

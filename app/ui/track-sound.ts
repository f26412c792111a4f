// The show's track heard on this page: an <audio> element plays the engine's decoded track
// (GET /api/audio/track) and follows the engine's clock, which is the master. Each frame's
// /netbend/audio/track/time says where the track is; the element is nudged (playbackRate within
// +-5 %) while it is a little off, and moved (currentTime) when it is more than JUMP off; it pauses
// and plays with /netbend/transport/play. A browser that refuses to play before a click says so.
import { effect, signal } from '@preact/signals';
import { param } from './connection.ts';

const A = '/netbend/audio/track/';
const PLAY = '/netbend/transport/play';
/** Off by more than this (s): jump there. Less, but more than NUDGE: play a little faster or slower. */
const JUMP = 0.25;
const NUDGE = 0.03;

/** Whether this page plays the track (the audio tab's switch); kept per page. */
export const trackSoundOn = signal(readOn());
/** 'blocked': the browser wants a click before sound. */
export const trackSoundState = signal<'none' | 'playing' | 'paused' | 'blocked'>('none');

function readOn(): boolean {
  try {
    return localStorage.getItem('netbend.trackSound') !== 'false';
  } catch {
    return true;
  }
}

/** For tests: the element, how far it was from the engine at the last check, and how often it was moved. */
const debug = { el: undefined as HTMLAudioElement | undefined, drift: 0, jumps: 0, engine: 0 };
(globalThis as unknown as { netbend: Record<string, unknown> }).netbend.trackSound = debug;

export function startTrackSound(): void {
  const el = new Audio();
  el.preload = 'auto';
  debug.el = el;
  let file = '';
  /** When the element was last moved, until it says it got there (a seek that never reports is forgotten after a second). */
  let seekAt = 0;
  const moving = () => seekAt > 0 && performance.now() - seekAt < 1000;
  const moveTo = (t: number) => {
    seekAt = performance.now();
    el.currentTime = t;
  };
  let starting = false;
  // A browser that wanted a click first: the next click anywhere on the page lets it play.
  window.addEventListener('pointerdown', () => {
    if (trackSoundState.peek() === 'blocked') trackSoundState.value = 'paused';
  });
  el.addEventListener('seeked', () => (seekAt = 0));
  effect(() => {
    try {
      localStorage.setItem('netbend.trackSound', String(trackSoundOn.value));
    } catch {
      /* not kept; still works */
    }
  });
  effect(() => {
    const f = String(param(`${A}file`).value?.value ?? '');
    if (f === file) return;
    file = f;
    el.pause();
    if (f) el.src = `/api/audio/track?file=${encodeURIComponent(f)}&at=${Date.now()}`;
    else {
      el.removeAttribute('src');
      el.load();
    }
  });
  effect(() => {
    const engine = Number(param(`${A}time`).value?.value ?? 0);
    const playing = param(PLAY).value?.value !== false;
    const on = trackSoundOn.value;
    debug.engine = engine;
    if (!file || !on) {
      if (!el.paused) el.pause();
      trackSoundState.value = 'none';
      return;
    }
    const d = el.currentTime - engine;
    debug.drift = d;
    if (!playing || engine >= el.duration) {
      if (!el.paused) el.pause();
      if (Math.abs(d) > NUDGE && !moving()) moveTo(engine);
      trackSoundState.value = 'paused';
      return;
    }
    if (el.paused) {
      if (starting || trackSoundState.peek() === 'blocked') return;
      if (Math.abs(d) > NUDGE) el.currentTime = engine;
      starting = true;
      el.play().then(
        () => ((starting = false), (trackSoundState.value = 'playing')),
        () => ((starting = false), (trackSoundState.value = 'blocked')),
      );
      return;
    }
    if (moving()) return;
    if (Math.abs(d) > JUMP) {
      moveTo(engine);
      el.playbackRate = 1;
      debug.jumps++;
    } else el.playbackRate = Math.abs(d) > NUDGE ? 1 - Math.max(-0.05, Math.min(0.05, d * 0.5)) : 1;
  });
}

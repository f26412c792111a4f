// The last minute of frame rate and inference time as two small lines: a slow patch (a partner
// load, a heavy edit) is seen as a dip, not guessed from a number that has moved on.
import { signal } from '@preact/signals';
import { stats } from './connection.ts';

const SAMPLES = 120;
const history = signal<Array<{ fps: number; infer: number; target: number }>>([]);
stats.subscribe((s) => {
  if (!s) return;
  history.value = [...history.value.slice(1 - SAMPLES), { fps: s.fps, infer: s.inferMs, target: s.targetFps }];
});

const W = 120;
const H = 26;

function line(values: number[], top: number): string {
  const n = values.length;
  // Newest at the right edge: a short history starts part of the way in.
  const x0 = SAMPLES - n;
  return values.map((v, i) => `${((W * (x0 + i)) / (SAMPLES - 1)).toFixed(1)},${(H - 2 - (Math.min(v, top) / top) * (H - 4)).toFixed(1)}`).join(' ');
}

export function StatsGraph() {
  const h = history.value;
  if (h.length < 2) return null;
  const target = h.at(-1)!.target || 30;
  const fpsTop = Math.max(target, ...h.map((x) => x.fps)) * 1.05;
  const inferTop = Math.max(1000 / target, ...h.map((x) => x.infer)) * 1.05;
  const last = h.at(-1)!;
  return (
    <svg class="stats-graph" id="stats-graph" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`last minute: ${last.fps.toFixed(1)} fps, inference ${last.infer.toFixed(0)} ms`}>
      <title>{`last minute: fps (green, target dashed) and inference ms (grey)\nnow ${last.fps.toFixed(1)} fps, ${last.infer.toFixed(0)} ms`}</title>
      <line x1="0" x2={W} y1={H - 2 - (target / fpsTop) * (H - 4)} y2={H - 2 - (target / fpsTop) * (H - 4)} class="g-target" />
      <polyline
        points={line(
          h.map((x) => x.infer),
          inferTop,
        )}
        class="g-infer"
      />
      <polyline
        points={line(
          h.map((x) => x.fps),
          fpsTop,
        )}
        class="g-fps"
      />
    </svg>
  );
}

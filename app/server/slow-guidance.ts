// What a performer should hear when the show cannot keep its frame rate: how slow, why (the
// execution provider and the inference time), and what would help, at hand in this show.
import type { EngineStats } from '../core/protocol.ts';

/** Under this share of the target rate the show says it is slow. */
export const SLOW_SHARE = 0.5;

export function slowGuidance(s: Pick<EngineStats, 'fps' | 'targetFps' | 'inferMs' | 'ep' | 'playing'>): EngineStats['slow'] {
  if (!s.playing || s.fps <= 0 || s.fps >= s.targetFps * SLOW_SHARE) return null;
  const reachable = s.inferMs > 0 ? Math.max(1, Math.floor(1000 / s.inferMs)) : undefined;
  const remedies: string[] = [];
  if (s.ep === 'cpu') remedies.push('a GPU execution provider: restart with --ep webgpu (or --ep cuda after npm run install:cuda)');
  if (reachable !== undefined && reachable < s.targetFps) remedies.push(`a target of ${reachable} fps, which this model can hold here`);
  remedies.push('a smaller model, or fewer taps and edits');
  return {
    text: `playing ${s.fps.toFixed(1)} of ${s.targetFps} fps: inference takes ${s.inferMs.toFixed(0)} ms a frame on ${s.ep}`,
    remedies,
  };
}

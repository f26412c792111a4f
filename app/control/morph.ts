// Morph from the current values to a preset's over N seconds: numbers glide (smoothstep), other
// values switch at the end. Driven by frame time, so it is exact in offline renders too.
import type { ParameterRegistry, ParamValue } from './registry.ts';

export class PresetMorph {
  private readonly from = new Map<string, number>();
  private start: number | undefined;
  done = false;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly to: Record<string, ParamValue>,
    private readonly seconds: number,
  ) {
    for (const [address, v] of Object.entries(to)) {
      if (typeof v === 'number' && params.has(address)) this.from.set(address, params.number(address));
    }
  }

  /** Advances to `now` (seconds, any clock); returns true once the morph has finished. */
  step(now: number): boolean {
    if (this.done) return true;
    this.start ??= now;
    const k = this.seconds > 0 ? Math.min(1, (now - this.start) / this.seconds) : 1;
    const e = k * k * (3 - 2 * k);
    for (const [address, v] of Object.entries(this.to)) {
      if (!this.params.has(address)) continue;
      const a = this.from.get(address);
      try {
        if (typeof v === 'number' && a !== undefined) this.params.set(address, k >= 1 ? v : a + (v - a) * e, 'preset');
        else if (k >= 1) this.params.set(address, v, 'preset');
      } catch {
        // Refused (and counted) by the registry; a morph runs inside the frame loop and must not throw there.
      }
    }
    this.done = k >= 1;
    return this.done;
  }
}

// Morph from the current values to a preset's over N seconds: continuous values glide (smoothstep),
// the others switch at the end, each as its parameter type says. Driven by frame time, so it is
// exact in offline renders too.
import { kindOf } from '../core/param-types.ts';
import type { ParameterRegistry, ParamValue } from '../core/registry.ts';

export class PresetMorph {
  private readonly from = new Map<string, ParamValue>();
  private start: number | undefined;
  done = false;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly to: Record<string, ParamValue>,
    private readonly seconds: number,
    /** Called with the eased progress (0..1) each step: what glides besides parameters. */
    private readonly onStep?: (k: number) => void,
  ) {
    for (const address of Object.keys(to)) if (params.has(address)) this.from.set(address, params.target(address));
  }

  /** Advances to `now` (seconds, any clock); returns true once the morph has finished. */
  step(now: number): boolean {
    if (this.done) return true;
    this.start ??= now;
    const k = this.seconds > 0 ? Math.min(1, (now - this.start) / this.seconds) : 1;
    const e = k * k * (3 - 2 * k);
    for (const [address, v] of Object.entries(this.to)) {
      const spec = this.params.spec(address);
      const a = this.from.get(address);
      if (!spec || a === undefined) continue;
      const kind = kindOf(spec);
      if (!kind.continuous && k < 1) continue;
      try {
        this.params.set(address, kind.interpolate(a, v, k >= 1 ? 1 : e), 'preset');
      } catch {
        // Refused (and counted) by the registry; a morph runs inside the frame loop and must not throw there.
      }
    }
    this.onStep?.(k >= 1 ? 1 : e);
    this.done = k >= 1;
    return this.done;
  }
}

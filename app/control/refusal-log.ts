// Refused values become one warning per parameter, not one per packet: an OSC flood of NaN or a
// diverged controller net says what it refused once, then counts. The count since the last
// warning rides on the next one, after a quiet interval.
import type { ParameterRegistry, ParamRefusal } from '../core/registry.ts';

export interface RefusalLogOptions {
  /** Milliseconds between two warnings about the same parameter. */
  intervalMs?: number;
  /** The clock (ms); injected so tests do not wait. */
  now?: () => number;
}

export class RefusalLog {
  private readonly last = new Map<string, { at: number; more: number }>();
  private readonly off: () => void;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(params: ParameterRegistry, say: (text: string) => void, opts: RefusalLogOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.off = params.on('refuse', (r) => {
      const text = this.note(r);
      if (text) say(text);
    });
  }

  /** The warning to give for this refusal, or undefined while the parameter's interval runs. */
  private note(r: ParamRefusal): string | undefined {
    const t = this.now();
    const seen = this.last.get(r.address);
    if (seen && t - seen.at < this.intervalMs) {
      seen.more++;
      return undefined;
    }
    if (this.last.size > 4096) this.last.clear(); // bounded: a sender can name many parameters
    this.last.set(r.address, { at: t, more: 0 });
    const more = seen?.more ? ` (${seen.more} more refused since the last warning)` : '';
    return `refused from ${r.source}: ${r.reason}${more}`;
  }

  close(): void {
    this.off();
  }
}

// Modulators write into parameters once per frame, before the engine reads them: LFOs (pure
// functions of time) and expressions (which may read other parameters). A modulated parameter takes
// the modulator's value; an LFO's `center` is where it swings around, its base: a performer who
// moves the parameter (page, OSC, MIDI) moves the base, and the LFO swings around the new value.
import { ParamRefused, type ParameterRegistry } from '../core/registry.ts';
import { findAddress } from './find-address.ts';
import { formatLfo, lfoValue, parseLfo, type LfoSpec } from './lfo.ts';
import { compileExpression, type Compiled } from './expression.ts';
import type { Tempo } from './tempo.ts';
import type { Modulator } from './preset.ts';
import type { ChangeSource } from '../core/registry.ts';

/**
 * An expression's name as a reader of a parameter: a short name or full address, a dotted name as
 * a path (`audio.low` -> .../audio/low); undefined when no single parameter answers to it.
 */
export function paramReader(params: ParameterRegistry, name: string): (() => number) | undefined {
  try {
    const address = findAddress(params, name.startsWith('/') ? name : name.replaceAll('.', '/'));
    return () => params.number(address);
  } catch {
    return undefined;
  }
}

/** Who moves a base: the performer's hands and tools, not presets, morphs or the engine. */
const PERFORMER: ReadonlySet<ChangeSource> = new Set(['ui', 'osc', 'midi', 'api', 'cli']);

interface Live extends Modulator {
  run: (time: number, frame: number) => number;
  /** An LFO's wave as it plays now (a morph moves its depth and center). */
  lfo?: LfoSpec;
}

export class ModulationBank {
  private readonly mods = new Map<string, Live>();
  private nextId = 1;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly tempo: Tempo,
  ) {
    params.on('change', (c) => {
      if (!PERFORMER.has(c.source) || typeof c.value !== 'number') return;
      for (const m of this.mods.values()) if (m.lfo && m.target === c.address) this.shapeLfo(m.id, m.lfo.depth, c.value);
    });
  }

  /** Adds (or replaces, same id) a modulator; a bad spec or target throws before anything changes. */
  add(m: Omit<Modulator, 'id' | 'enabled'> & { id?: string; enabled?: boolean }): string {
    const target = findAddress(this.params, m.target);
    const id = m.id ?? `m${this.nextId++}`;
    let run: Live['run'];
    let lfo: LfoSpec | undefined;
    if (m.kind === 'lfo') {
      const spec = parseLfo(m.source);
      lfo = spec;
      run = (time) => lfoValue(live.lfo ?? spec, time, this.tempo);
    } else {
      const f: Compiled = compileExpression(m.source, (name) => paramReader(this.params, name));
      run = (time, frame) => f({ t: time, beat: this.tempo.beats(time), frame });
    }
    const live: Live = { id, target, kind: m.kind, source: m.source, enabled: m.enabled ?? true, run, lfo };
    this.mods.set(id, live);
    return id;
  }

  /** An LFO's wave as it plays now; undefined for expressions and unknown ids. */
  lfoOf(id: string): LfoSpec | undefined {
    const l = this.mods.get(id)?.lfo;
    return l ? { ...l } : undefined;
  }

  /** Plays an LFO with another depth and center for now (a morph gliding between two scenes' LFOs). */
  shapeLfo(id: string, depth: number, center: number): void {
    const m = this.mods.get(id);
    if (!m?.lfo) return;
    m.lfo = { ...m.lfo, depth, center };
    m.source = formatLfo(m.lfo);
  }

  has(id: string): boolean {
    return this.mods.has(id);
  }

  /** Mutes or unmutes; a muted modulator leaves its parameter where it is. */
  setEnabled(id: string, on: boolean): void {
    const m = this.mods.get(id);
    if (!m) throw new Error(`no modulator "${id}"`);
    m.enabled = on;
  }

  /** Replaces a modulator's spec (same id and target); a bad spec throws and changes nothing. */
  update(id: string, source: string): void {
    const m = this.mods.get(id);
    if (!m) throw new Error(`no modulator "${id}"`);
    this.add({ id, target: m.target, kind: m.kind, source, enabled: m.enabled });
  }

  remove(id: string): void {
    this.mods.delete(id);
  }

  clear(): void {
    this.mods.clear();
  }

  list(): Modulator[] {
    return [...this.mods.values()].map(({ run: _run, lfo: _lfo, ...m }) => m);
  }

  /** Once per frame, before the engine reads parameters. A failing modulator is switched off. */
  apply(time: number, frame: number): string[] {
    const errors: string[] = [];
    for (const m of this.mods.values()) {
      if (!m.enabled) continue;
      if (!this.params.has(m.target)) {
        // Its parameter went with a previous model: say so once instead of skipping silently.
        m.enabled = false;
        errors.push(`modulator ${m.id} switched off: ${m.target} no longer exists`);
        continue;
      }
      const v = m.run(time, frame);
      try {
        this.params.set(m.target, v, 'modulator');
      } catch (err) {
        // A NaN or out-of-bounds value this frame (log(0), a wild depth) is refused and counted by
        // the registry; the parameter holds its last good value and the modulator plays on.
        if (err instanceof ParamRefused) continue;
        m.enabled = false;
        errors.push(`modulator ${m.id} on ${m.target} switched off: ${(err as Error).message}`);
      }
    }
    return errors;
  }
}

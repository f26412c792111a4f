// Modulation from the slider: any numeric parameter gets an LFO (shape, rate in Hz or beats,
// depth, phase; it swings around the value the slider had) or an expression, edited in place
// under its row; a modulated slider shows its base and the band it swings over while the fill
// moves; the modulators list mutes, edits and removes. Every change is a scene move (undoable,
// in presets, over OSC as /netbend/mod/...).
import { useState } from 'preact/hooks';
import { formatLfo, LFO_SHAPES, parseLfo, type LfoShape, type LfoSpec } from '../control/lfo.ts';
import { modulators, param, run, send } from './connection.ts';
import { modEditing } from './ui-state.ts';
import { Segmented } from './segmented.tsx';
import type { ModulatorInfo, ParamInfo } from '../core/protocol.ts';

/** The LFO playing on a parameter (the last one wins a frame), parsed; undefined if none or an expression. */
export function lfoOn(address: string): { mod: ModulatorInfo; lfo: LfoSpec } | undefined {
  const mod = modulators.value.filter((m) => m.target === address && m.enabled && m.kind === 'lfo').at(-1);
  if (!mod) return undefined;
  try {
    return { mod, lfo: parseLfo(mod.source) };
  } catch {
    return undefined;
  }
}

const modulated = (address: string) => modulators.value.some((m) => m.target === address);

/** The ~ button beside MIDI learn: opens the editor under the row. */
export function ModButton({ address }: { address: string }) {
  const open = modEditing.value === address;
  const on = modulated(address);
  return (
    <button
      type="button"
      class={`mod-btn ${on ? 'on' : ''} ${open ? 'open' : ''}`}
      data-mod={address}
      aria-expanded={open}
      title={on ? 'modulated: edit its LFO or expression' : 'modulate: add an LFO or an expression'}
      onClick={() => (modEditing.value = open ? null : address)}
    >
      ~
    </button>
  );
}

function defaultLfo(p: ParamInfo): LfoSpec {
  const span = p.min !== undefined && p.max !== undefined ? p.max - p.min : Math.max(1, Math.abs(Number(p.value)));
  return { shape: 'sine', rate: 0.25, unit: 'hz', depth: Number((span / 4).toPrecision(3)), center: Number(p.value), phase: 0, seed: 0 };
}

/** The editor for the modulator of one parameter (the existing one, or a new one). */
export function ModEditor({ address }: { address: string }) {
  const p = param(address).value;
  const existing = modulators.value.filter((m) => m.target === address).at(-1);
  const [kind, setKind] = useState<'lfo' | 'expr'>(existing?.kind ?? 'lfo');
  const [lfo, setLfo] = useState<LfoSpec>(() => {
    try {
      if (existing?.kind === 'lfo') return parseLfo(existing.source);
    } catch {
      // an unreadable spec: start from a fresh one
    }
    return p ? defaultLfo(p) : { shape: 'sine', rate: 0.25, unit: 'hz', depth: 0.25, center: 0, phase: 0, seed: 0 };
  });
  const [expr, setExpr] = useState(existing?.kind === 'expr' ? existing.source : `${Number(p?.value ?? 0)} + 0.1 * sin(t)`);
  const [error, setError] = useState('');
  if (!p) return null;
  const num = (key: 'rate' | 'depth' | 'phase', label: string, step: string) => (
    <label class="mod-field">
      <span>{label}</span>
      <input
        type="number"
        step={step}
        value={lfo[key]}
        data-field={key}
        onInput={(e) => {
          const v = Number((e.target as HTMLInputElement).value);
          if (Number.isFinite(v)) setLfo({ ...lfo, [key]: v });
        }}
      />
    </label>
  );
  const apply = async () => {
    // An LFO swings around the value the slider has now (moving the slider later moves it along).
    const source = kind === 'lfo' ? formatLfo({ ...lfo, center: existing?.kind === 'lfo' ? lfo.center : Number(p.value) }) : expr.trim();
    try {
      if (existing && existing.kind === kind) await send({ cmd: 'setModulator', mod: existing.id, source });
      else {
        if (existing) await send({ cmd: 'removeModulator', mod: existing.id });
        await send({ cmd: 'addModulator', target: address, kind, source });
      }
      setError('');
      modEditing.value = null;
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div class="mod-editor" data-mod-editor={address}>
      <div class="mod-row">
        <Segmented
          value={kind}
          label="modulator kind"
          options={[
            ['lfo', 'LFO'],
            ['expr', 'expression', 'a formula of t (seconds), beat, frame and other parameters by name'],
          ]}
          onChange={setKind}
        />
      </div>
      {kind === 'lfo' ? (
        <div class="mod-row">
          <label class="mod-field">
            <span>shape</span>
            <select value={lfo.shape} data-field="shape" onChange={(e) => setLfo({ ...lfo, shape: (e.target as HTMLSelectElement).value as LfoShape })}>
              {LFO_SHAPES.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </label>
          {num('rate', 'rate', '0.05')}
          <Segmented
            value={lfo.unit}
            label="rate unit"
            options={[
              ['hz', 'Hz', 'cycles per second'],
              ['beats', 'beats', 'beats per cycle, at the show tempo'],
            ]}
            onChange={(unit) => setLfo({ ...lfo, unit })}
          />
          {num('depth', 'depth', 'any')}
          {num('phase', 'phase', '0.05')}
        </div>
      ) : (
        <div class="mod-row">
          <input
            class="mod-expr"
            value={expr}
            data-field="expr"
            spellcheck={false}
            onInput={(e) => setExpr((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => e.key === 'Enter' && void apply()}
          />
        </div>
      )}
      {error && <div class="mod-error">{error}</div>}
      <div class="mod-row mod-actions">
        <button type="button" class="primary" data-mod-apply onClick={() => void apply()}>
          {existing ? 'apply' : 'modulate'}
        </button>
        {existing && (
          <button type="button" data-mod-remove onClick={() => void send({ cmd: 'removeModulator', mod: existing.id }).then(() => (modEditing.value = null))}>
            remove
          </button>
        )}
        <button type="button" onClick={() => (modEditing.value = null)}>
          cancel
        </button>
      </div>
    </div>
  );
}

/** Every modulator of the scene: what it moves, what it plays; mute, edit, remove. */
export function ModulatorsPanel() {
  const list = modulators.value;
  return (
    <section class="mods" id="modulators" aria-label="modulators">
      <h3>
        modulators <span class="count">{list.length}</span>
      </h3>
      {list.length === 0 && <div class="hint">none: press ~ beside any slider to add an LFO or an expression</div>}
      {list.map((m) => (
        <div class={`mod-item ${m.enabled ? '' : 'muted'}`} data-mod-id={m.id} key={m.id}>
          <button type="button" class="mod-target" title={`edit: ${m.target}`} onClick={() => (modEditing.value = m.target)}>
            {m.target.replace(/^\/netbend\//, '')}
          </button>
          <span class="mod-source" title={m.source}>
            {m.kind === 'lfo' ? '~ ' : '= '}
            {m.source}
          </span>
          <button
            type="button"
            class={`mod-mute ${m.enabled ? '' : 'on'}`}
            aria-pressed={!m.enabled}
            title="mute: the parameter stays where it is"
            onClick={() => void run({ cmd: 'muteModulator', mod: m.id, muted: m.enabled })}
          >
            mute
          </button>
          <button type="button" class="mod-x" title="remove" onClick={() => void run({ cmd: 'removeModulator', mod: m.id })}>
            ×
          </button>
        </div>
      ))}
    </section>
  );
}

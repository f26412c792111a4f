// Controls bound to registry parameters. Every move is a `set` to the server and every value shown
// is the server's (OSC, MIDI, modulators and presets show up live), except under the hand while
// dragging. Sliders are relative-drag bars: grabbing one never makes the value jump.
//   drag: coarse · shift-drag: fine · double-click: type a value · Backspace: default · arrows: step
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { hold, learning, param, run, setParam } from './connection.ts';
import type { ParamInfo, ParamValue } from '../core/protocol.ts';
import { kindOf } from '../core/param-types.ts';
import { lfoOn, ModButton, ModEditor } from './modulation.tsx';
import { modEditing } from './ui-state.ts';
import { Segmented } from './segmented.tsx';

export { Segmented } from './segmented.tsx';

export type BarKind = 'plain' | 'blend' | 'edit' | 'source';

function spanOf(p: ParamInfo): number {
  if (p.min !== undefined && p.max !== undefined && p.max > p.min) return p.max - p.min;
  return Math.max(1, Math.abs(Number(p.value)) * 2);
}

/** The value as its parameter type writes it (digits enough to see a 1/1000 move of the range). */
export function formatValue(p: ParamInfo, v: ParamValue = p.value): string {
  return kindOf(p).format(p, v);
}

function bounds(p: ParamInfo): [number, number] {
  const v = Number(p.value);
  const lo = p.min ?? Math.min(0, v - spanOf(p) / 2);
  const hi = p.max ?? Math.max(lo + spanOf(p), v);
  return [lo, hi];
}

/** Copies an OSC address; says so for a moment. */
function Address({ address }: { address: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(address);
    } catch {
      const ta = Object.assign(document.createElement('textarea'), { value: address });
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1200);
  };
  return (
    <button type="button" class={`addr ${copied ? 'copied' : ''}`} title="OSC address: click to copy" onClick={copy}>
      <span class="addr-text">{address}</span>
      <span class="addr-note">{copied ? 'copied' : 'copy'}</span>
    </button>
  );
}

/** MIDI learn for one parameter: arm, then move a control on the MIDI device. */
export function Learn({ address }: { address: string }) {
  const armed = learning.value === address;
  return (
    <button
      type="button"
      class={`learn ${armed ? 'armed' : ''}`}
      title={armed ? 'waiting for a MIDI control… (click to cancel)' : 'MIDI learn: click, then move a control'}
      aria-pressed={armed}
      onClick={() => run({ cmd: 'midiLearn', address: armed ? null : address })}
    >
      {armed ? 'MIDI…' : 'MIDI'}
    </button>
  );
}

/** A horizontal value bar: the fill is the value, the name on the left, the number on the right. */
export function Bar({ address, label, kind = 'plain', ticks, inherited }: { address: string; label?: string; kind?: BarKind; ticks?: number[]; inherited?: number }) {
  const p0 = param(address).value;
  // A value this parameter follows from elsewhere (a layer's blend from its parent or `all`):
  // shown ghosted, and a drag starts from it, so grabbing the bar does not jump the picture.
  const p = p0 && inherited !== undefined ? { ...p0, value: inherited } : p0;
  const ref = useRef<HTMLDivElement>(null);
  const drag = useRef<{ id: number; x: number; v: number; moved: boolean; lo: number; hi: number } | null>(null);
  const [editing, setEditing] = useState(false);
  if (!p) return null;
  const v = Number(p.value);
  const [lo, hi] = bounds(p);
  const span = hi - lo || 1;
  const frac = (x: number) => Math.min(1, Math.max(0, (x - lo) / span));
  // Bipolar ranges fill from zero, so "a little negative" looks like it.
  const origin = lo < 0 && hi > 0 ? frac(0) : 0;
  const at = frac(v);
  const left = Math.min(origin, at);
  const width = Math.abs(at - origin);
  const ro = !!p.readOnly;
  // A modulated slider: the fill moves with the LFO; its base (where it swings around) is what
  // the hand moves, so a drag starts from the base, and the band shows how far it swings.
  const mod = lfoOn(address);
  const base = mod ? mod.lfo.center : v;
  const put = (x: number, continuous: boolean) => {
    const next = p.type === 'int' ? Math.round(x) : x;
    // A value typed or dragged into a bar that follows another (inherited) is the bar's own from
    // then on, even where it equals what the bar held underneath (typing 0 into a following blend).
    if (inherited !== undefined || next !== Number(param(address).peek()?.value)) setParam(address, next, continuous);
  };
  const onDown = (e: PointerEvent) => {
    if (ro || e.button !== 0 || editing) return;
    ref.current?.setPointerCapture(e.pointerId);
    ref.current?.focus();
    drag.current = { id: e.pointerId, x: e.clientX, v: base, moved: false, lo: Math.min(lo, base), hi: Math.max(hi, base) };
    hold(address, true);
    e.preventDefault();
  };
  const onMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    const w = ref.current?.clientWidth ?? 200;
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) < 2) return;
    d.moved = true;
    const raw = d.v + (dx / w) * span * (e.shiftKey ? 0.1 : 1);
    put(Math.min(d.hi, Math.max(d.lo, raw)), true);
  };
  const onUp = (e: PointerEvent) => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    drag.current = null;
    hold(address, false);
  };
  const onKey = (e: KeyboardEvent) => {
    if (ro || editing) return;
    const step = p.type === 'int' ? (e.shiftKey ? 10 : 1) : span / (e.shiftKey ? 10 : 100);
    const keys: Record<string, () => number> = {
      ArrowRight: () => v + step,
      ArrowUp: () => v + step,
      ArrowLeft: () => v - step,
      ArrowDown: () => v - step,
      Home: () => lo,
      End: () => hi,
      Backspace: () => Number(p.default),
      Delete: () => Number(p.default),
    };
    if (e.key === 'Enter') {
      setEditing(true);
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const f = keys[e.key];
    if (!f) return;
    e.preventDefault();
    e.stopPropagation();
    put(Math.min(Math.max(lo, hi), Math.max(Math.min(lo, hi), f())), false);
  };
  const name = label ?? address.split('/').slice(-2).join(' ');
  return (
    <div
      ref={ref}
      class={`bar bar-${kind} ${ro ? 'ro' : ''} ${editing ? 'editing' : ''} ${inherited !== undefined ? 'inherited' : ''}`}
      role="slider"
      tabIndex={ro ? -1 : 0}
      aria-label={name}
      aria-valuemin={lo}
      aria-valuemax={hi}
      aria-valuenow={v}
      aria-valuetext={formatValue(p)}
      aria-readonly={ro}
      data-address={address}
      title={`${p.description ?? address}${inherited !== undefined ? '\n(following its parent layer or blend all; moving it gives it its own amount)' : ''}${ro ? ' (read-only)' : '\ndrag · shift-drag fine · double-click to type · ⌫ default'}`}
      onPointerDown={onDown}
      onPointerMove={onMove}
      onPointerUp={onUp}
      onPointerCancel={onUp}
      onDblClick={() => !ro && setEditing(true)}
      onKeyDown={onKey}
    >
      {mod && (
        <div
          class="bar-mod-band"
          style={{ left: `${frac(base - Math.abs(mod.lfo.depth)) * 100}%`, width: `${(frac(base + Math.abs(mod.lfo.depth)) - frac(base - Math.abs(mod.lfo.depth))) * 100}%` }}
        />
      )}
      <div class="bar-fill" style={{ left: `${left * 100}%`, width: `${width * 100}%` }} />
      {mod && <div class="bar-base" data-base={base} style={{ left: `${frac(base) * 100}%` }} />}
      <div class="bar-head" style={{ left: `${at * 100}%` }} />
      {origin > 0 && <div class="bar-tick zero" style={{ left: `${origin * 100}%` }} />}
      {ticks
        ?.filter((t) => t > lo && t < hi && t !== 0)
        .map((t) => (
          <div class="bar-tick" style={{ left: `${frac(t) * 100}%` }} />
        ))}
      <span class="bar-name">{name}</span>
      {editing ? (
        <ValueEntry
          initial={formatValue(p)}
          onDone={(text) => {
            setEditing(false);
            ref.current?.focus();
            const n = Number(text);
            if (text !== null && text.trim() !== '' && Number.isFinite(n)) put(n, false);
          }}
        />
      ) : (
        <span class="bar-value">
          {formatValue(p)}
          {p.unit && <span class="unit">{p.unit}</span>}
        </span>
      )}
    </div>
  );
}

function ValueEntry({ initial, onDone }: { initial: string; onDone: (text: string | null) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  const done = useRef(false);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  const finish = (text: string | null) => {
    if (done.current) return;
    done.current = true;
    onDone(text);
  };
  return (
    <input
      ref={ref}
      class="bar-entry"
      inputMode="decimal"
      value={initial}
      onPointerDown={(e) => e.stopPropagation()}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') finish((e.target as HTMLInputElement).value);
        else if (e.key === 'Escape') finish(null);
      }}
      onBlur={(e) => finish((e.target as HTMLInputElement).value)}
    />
  );
}

function Toggle({ address, label }: { address: string; label: string }) {
  const p = param(address).value!;
  const on = p.value === true;
  return (
    <button
      type="button"
      role="switch"
      aria-checked={on}
      class={`toggle ${on ? 'on' : ''}`}
      data-address={address}
      disabled={p.readOnly}
      title={p.description ?? address}
      onClick={() => setParam(address, !on)}
    >
      <span class="toggle-track">
        <span class="toggle-knob" />
      </span>
      <span class="toggle-name">{label}</span>
    </button>
  );
}

function Choice({ address, label }: { address: string; label: string }) {
  const p = param(address).value!;
  const opts = p.options ?? [];
  const short = opts.length <= 4 && opts.join('').length <= 22;
  return (
    <div class="choice" data-address={address} title={p.description ?? address}>
      <span class="choice-name">{label}</span>
      {short ? (
        <Segmented value={String(p.value)} options={opts.map((o) => [o, o])} onChange={(o) => setParam(address, o)} disabled={p.readOnly} />
      ) : (
        <select value={String(p.value)} disabled={p.readOnly} onChange={(e) => setParam(address, (e.target as HTMLSelectElement).value)}>
          {opts.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
      )}
    </div>
  );
}

function Trigger({ address, label }: { address: string; label: string }) {
  const p = param(address).value!;
  const [flash, setFlash] = useState(false);
  return (
    <button
      type="button"
      class={`trigger ${flash ? 'flash' : ''}`}
      data-address={address}
      title={p.description ?? address}
      onClick={() => {
        setParam(address, true);
        setFlash(true);
        setTimeout(() => setFlash(false), 150);
      }}
    >
      <span class="trigger-dot" /> {label}
    </button>
  );
}

function Text({ address, label }: { address: string; label: string }) {
  const p = param(address).value!;
  return (
    <label class="text-param" data-address={address} title={p.description ?? address}>
      <span class="choice-name">{label}</span>
      <input
        value={String(p.value)}
        disabled={p.readOnly}
        onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        onChange={(e) => setParam(address, (e.target as HTMLInputElement).value)}
      />
    </label>
  );
}

/** One parameter as the right control for its type, with MIDI learn and (optionally) its address. */
export function ParamRow({
  address,
  label,
  showAddress = true,
  kind,
  ticks,
  extra,
}: {
  address: string;
  label?: string;
  showAddress?: boolean;
  kind?: BarKind;
  ticks?: number[];
  extra?: ComponentChildren;
}) {
  const p = param(address).value;
  if (!p) return null;
  const name = label ?? address.split('/').slice(-2).join(' ');
  const numeric = !p.readOnly && (p.type === 'float' || p.type === 'int');
  let control: JSX.Element;
  switch (p.type) {
    case 'bool':
      control = <Toggle address={address} label={name} />;
      break;
    case 'enum':
      control = <Choice address={address} label={name} />;
      break;
    case 'trigger':
      control = <Trigger address={address} label={name} />;
      break;
    case 'string':
      control = <Text address={address} label={name} />;
      break;
    default:
      control = <Bar address={address} label={name} kind={kind} ticks={ticks} />;
  }
  return (
    <div class={`prow ${showAddress ? 'with-addr' : ''}`}>
      <div class="prow-main">
        {control}
        {!p.readOnly && p.type !== 'string' ? <Learn address={address} /> : <span class="learn-gap" />}
        {numeric && <ModButton address={address} />}
        {extra}
      </div>
      {numeric && modEditing.value === address && <ModEditor address={address} />}
      {showAddress && <Address address={address} />}
    </div>
  );
}

/** Values shown as text, for readouts outside the registry. */
export const show = (v: ParamValue | undefined, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v ?? '–'));

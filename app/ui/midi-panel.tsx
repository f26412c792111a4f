// MIDI on the page: the show's MIDI status (the ports it opened, or "no MIDI available" and why),
// MIDI learn with an instruction, a countdown and its outcome, and the mappings list, where each
// mapping's range, curve, invert and takeover are edited and the mapping removed. Every edit is a
// move of the scene (/netbend/midi/<id>/...), so it is an undo step and goes into presets.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { midi, param, paramList, run } from './connection.ts';
import type { MidiInfo, MidiLearnInfo, MidiMappingInfo, ParamInfo } from '../core/protocol.ts';
import { Segmented } from './widgets.tsx';
import { MIDI_PREFIX } from '../core/addresses.ts';

/** How long a learn's outcome (learned, timed out, cancelled) stays on screen. */
const OUTCOME_MS = 5000;

/** A parameter as the page's controls name it: its last two address segments. */
const label = (address: string) => address.split('/').slice(-2).join(' ');

const NOTES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** The control a mapping listens to: "CC 21 · ch 1", "note 60 (C4) · any ch". */
export function controlName(m: Pick<MidiMappingInfo, 'kind' | 'number' | 'channel'>): string {
  const ch = m.channel === 'any' ? 'any ch' : `ch ${m.channel + 1}`;
  const what =
    m.kind === 'cc'
      ? `CC ${m.number}`
      : m.kind === 'cc14'
        ? `CC ${m.number}/${m.number + 32} (14-bit)`
        : m.kind === 'note'
          ? `note ${m.number} (${NOTES[m.number % 12]}${Math.floor(m.number / 12) - 1})`
          : m.kind === 'pitchbend'
            ? 'pitch bend'
            : 'program change';
  return `${what} · ${ch}`;
}

/** The status in one line: the ports, or why there is no MIDI. */
export function statusLine(m: MidiInfo): string {
  if (!m.available) return `no MIDI available: ${(m.reason ?? '').replace(/^MIDI unavailable: /, '')}`;
  return `MIDI in: ${m.inputs.join(', ') || 'none'} · out: ${m.output ?? 'none'}`;
}

/** The MIDI tab's light: green with an input open, amber without; its title says which. */
export function MidiDot() {
  const m = midi.value;
  if (!m) return null;
  const on = m.available && m.inputs.length > 0;
  return <span id="midi-badge" class={`midi-dot ${on ? 'on' : 'off'}`} title={statusLine(m)} />;
}

/** Parameters a MIDI control can drive (not read-only, not text; not the mappings' own moves). */
function mappable(): string[] {
  return paramList.value.filter((a) => {
    const p = param(a).peek();
    return !!p && !p.readOnly && p.type !== 'string' && !a.startsWith(MIDI_PREFIX);
  });
}

function Status({ m }: { m: MidiInfo }) {
  if (!m.available)
    return (
      <div id="midi-status" class="midi-status off" role="status">
        <div class="midi-status-head">
          <span class="midi-dot" /> no MIDI available
        </div>
        <div class="midi-reason">{(m.reason ?? '').replace(/^MIDI unavailable: /, '')}</div>
      </div>
    );
  return (
    <div id="midi-status" class={`midi-status ${m.inputs.length ? 'on' : 'off'}`} role="status">
      <div class="midi-status-head">
        <span class="midi-dot" /> {m.inputs.length ? 'MIDI on' : 'MIDI: no input open'}
      </div>
      <div class="midi-ports">
        <span class="dim">in</span> <span class="mono">{m.inputs.join(', ') || 'none'}</span>
      </div>
      <div class="midi-ports">
        <span class="dim">out</span> <span class="mono">{m.output ?? 'none'}</span>
        <span class="dim">{m.output ? ' (feedback to motor faders and LED rings)' : ' (no feedback)'}</span>
      </div>
    </div>
  );
}

function LearnPicker({ m }: { m: MidiInfo }) {
  const list = mappable();
  const [chosen, setChosen] = useState('');
  const address = list.includes(chosen) ? chosen : (list.find((a) => a.startsWith('/netbend/source/')) ?? list[0] ?? '');
  const waiting = m.learn.state === 'waiting' ? m.learn.param : null;
  const canHear = m.available && m.inputs.length > 0;
  return (
    <div class="block">
      <div class="block-title">learn</div>
      <div class="row">
        <select id="midi-learn-param" class="grow mono" value={address} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
          {list.map((a) => (
            <option value={a}>{a}</option>
          ))}
        </select>
        <button
          type="button"
          id="midi-learn-start"
          class={`learn-go ${waiting ? 'armed' : ''}`}
          disabled={!address || !canHear}
          title={canHear ? 'arm MIDI learn for this parameter, then move a control' : statusLine(m)}
          onClick={() => run({ cmd: 'midiLearn', address: waiting === address ? null : address })}
        >
          {waiting === address ? 'cancel' : 'learn'}
        </button>
      </div>
      <div class="hint">{canHear ? 'or click MIDI beside any control; then move a knob or press a key' : 'learn needs a MIDI input: mappings can still be edited here and load with presets'}</div>
    </div>
  );
}

/** A number typed into a field: shows the given value, except while being typed in. */
function NumberField({ value, onCommit, cls, title, disabled }: { value: number; onCommit: (v: number) => void; cls: string; title: string; disabled?: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const n = Number(draft);
    setDraft(null);
    if (draft.trim() !== '' && Number.isFinite(n) && n !== value) onCommit(n);
  };
  return (
    <input
      class={`num ${cls}`}
      type="text"
      inputMode="decimal"
      title={title}
      disabled={disabled}
      value={draft ?? String(Number(value.toPrecision(6)))}
      onFocus={(e) => setDraft((e.target as HTMLInputElement).value)}
      onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        else if (e.key === 'Escape') {
          setDraft(null);
          (e.target as HTMLInputElement).blur();
        }
      }}
    />
  );
}

/** The range a mapping drives when it has none of its own: the parameter's (as the router takes it). */
function ownRange(p: ParamInfo | undefined): [number, number] {
  if (!p) return [0, 1];
  if (p.type === 'enum') return [0, Math.max(0, (p.options?.length ?? 1) - 1)];
  if (p.type === 'bool' || p.type === 'trigger') return [0, 1];
  return [p.min ?? 0, p.max ?? 1];
}

function MappingRow({ m }: { m: MidiMappingInfo }) {
  const p = param(m.param).value;
  const [lo, hi] = ownRange(p);
  const min = m.min ?? lo;
  const max = m.max ?? hi;
  const continuous = m.kind !== 'note' && m.kind !== 'program';
  const missing = !p;
  const edit = (fields: Omit<Extract<Parameters<typeof run>[0], { cmd: 'midiEdit' }>, 'cmd' | 'mapping'>) => run({ cmd: 'midiEdit', mapping: m.id, ...fields });
  return (
    <div class="midi-map" data-id={m.id} data-param={m.param}>
      <div class="mm-head">
        <span class="mm-control mono" title={`${m.kind} ${m.number}, channel ${m.channel === 'any' ? 'any' : m.channel + 1} (mapping ${m.id})`}>
          {controlName(m)}
        </span>
        <span class="mm-arrow">→</span>
        <span class="mm-param" title={m.param}>
          {label(m.param)}
        </span>
        <button
          type="button"
          class="icon remove mm-remove"
          title="remove this mapping (undo brings it back)"
          aria-label={`remove the mapping of ${controlName(m)}`}
          onClick={() => run({ cmd: 'midiRemove', mapping: m.id })}
        >
          ✕
        </button>
      </div>
      {missing ? (
        <div class="hint">{m.param} is not in this model: the mapping sleeps until it is</div>
      ) : (
        <>
          <div class="mm-edit">
            <span class="mm-label">range</span>
            <NumberField cls="mm-min" value={min} title="the value the bottom of the control gives" onCommit={(v) => edit({ range: [v, max] })} />
            <span class="dim">to</span>
            <NumberField cls="mm-max" value={max} title="the value the top of the control gives" onCommit={(v) => edit({ range: [min, v] })} />
            {p.unit && <span class="dim mm-unit">{p.unit}</span>}
            <span class="spacer" />
            <button
              type="button"
              role="switch"
              aria-checked={m.invert === true}
              class={`toggle mm-invert ${m.invert ? 'on' : ''}`}
              title="invert: the top of the control gives the bottom of the range"
              onClick={() => edit({ invert: !m.invert })}
            >
              <span class="toggle-track">
                <span class="toggle-knob" />
              </span>
              <span class="toggle-name">invert</span>
            </button>
          </div>
          {continuous && (
            <div class="mm-edit">
              <span class="mm-label">curve</span>
              <span class="mm-curve">
                <Segmented
                  value={m.curve ?? 'lin'}
                  label="curve"
                  options={[
                    ['lin', 'lin', 'linear'],
                    ['exp', 'exp', 'slow at the bottom: fine control of small values'],
                    ['log', 'log', 'fast at the bottom'],
                  ]}
                  onChange={(curve) => edit({ curve })}
                />
              </span>
              <span class="spacer" />
              <span class="dim">takeover</span>
              <span class="mm-takeover">
                <Segmented
                  value={m.takeover ?? 'jump'}
                  label="takeover"
                  options={[
                    ['jump', 'jump', 'the value jumps to the control at its first move'],
                    ['pickup', 'pickup', 'the control takes over once it meets the value: no jumps'],
                  ]}
                  onChange={(takeover) => edit({ takeover })}
                />
              </span>
            </div>
          )}
        </>
      )}
    </div>
  );
}

export function MidiPanel() {
  const m = midi.value;
  if (!m) return <div class="hint pad">connecting to the engine…</div>;
  return (
    <div class="panel-body" id="midi-panel">
      <div class="block">
        <div class="block-title">status</div>
        <Status m={m} />
      </div>
      <LearnPicker m={m} />
      <div class="block" id="midi-mappings">
        <div class="block-title">
          mappings <span class="count num">{m.mappings.length}</span>
        </div>
        {m.mappings.length === 0 && <div class="hint">no mappings yet: learn one, or load a preset that has some</div>}
        {m.mappings.map((x) => (
          <MappingRow key={x.id} m={x} />
        ))}
      </div>
    </div>
  );
}

/** The first learn counter this page saw: outcomes from before it opened are not news. */
let firstSeen: number | undefined;

function outcome(l: MidiLearnInfo): string | null {
  switch (l.state) {
    case 'learned':
      return `learned: ${controlName(l.mapping)} → ${label(l.param)}${l.mapping.takeover === 'pickup' ? ' (it takes over once it meets the value)' : ''}`;
    case 'timeout':
      return `MIDI learn timed out: no control moved in ${l.seconds} s, nothing was mapped to ${label(l.param)}`;
    case 'cancelled':
      return `MIDI learn cancelled: nothing was mapped to ${label(l.param)}`;
    default:
      return null;
  }
}

/** Over the views while a learn waits (the instruction, a countdown, Esc cancels), then its outcome for a moment. */
export function LearnBanner() {
  const l = midi.value?.learn;
  firstSeen ??= l?.n;
  const [, setTick] = useState(0);
  const [shownN, setShownN] = useState(-1);
  /** When the waiting learn gives up, on this page's clock (set when the page first hears of it). */
  const deadline = useRef({ n: -1, at: 0 });
  const waiting = l?.state === 'waiting' ? l : undefined;
  if (waiting && deadline.current.n !== waiting.n) deadline.current = { n: waiting.n, at: performance.now() + waiting.left * 1000 };
  // A layout effect: Esc must work from the moment the banner says it does, not a paint later.
  useLayoutEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => setTick((n) => n + 1), 200);
    const key = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopImmediatePropagation();
      run({ cmd: 'midiLearn', address: null });
    };
    window.addEventListener('keydown', key, true);
    return () => {
      clearInterval(timer);
      window.removeEventListener('keydown', key, true);
    };
  }, [waiting]);
  useEffect(() => {
    if (!l || l.state === 'waiting' || l.state === 'idle' || l.n <= (firstSeen ?? 0)) return;
    setShownN(l.n);
    const timer = setTimeout(() => setShownN(-1), OUTCOME_MS);
    return () => clearTimeout(timer);
  }, [l?.n, l?.state]);
  if (!l) return null;
  if (waiting) {
    const left = Math.max(0, Math.ceil((deadline.current.at - performance.now()) / 1000));
    return (
      <div id="midi-learn" class="midi-learn waiting" role="status" aria-live="polite" data-param={waiting.param}>
        <span class="midi-dot" />
        <span class="ml-text">
          move a knob or press a key on your controller to map it to <b title={waiting.param}>{label(waiting.param)}</b>; <kbd>Esc</kbd> cancels
        </span>
        <span class="ml-left num" title={`learn gives up after ${waiting.seconds} s`}>
          {left} s
        </span>
        <button type="button" class="btn ghost" onClick={() => run({ cmd: 'midiLearn', address: null })}>
          cancel
        </button>
      </div>
    );
  }
  const text = shownN === l.n ? outcome(l) : null;
  if (!text) return null;
  return (
    <div id="midi-learn" class={`midi-learn ${l.state}`} role="status" aria-live="polite">
      <span class="midi-dot" />
      <span class="ml-text">{text}</span>
    </div>
  );
}

// Live learning on the page: choose inputs and targets from the parameters, record examples (one
// per click, or one a frame while the hold button is down), list and delete them, save and load
// them, train a mapping with its progress and validation error, and play or stop it. Every control
// is a learn move (/netbend/learn/...) or a parameter, so it is what OSC does too.
import { useState } from 'preact/hooks';
import { learn, param, paramList, run, setParam } from './connection.ts';
import type { LearnInfo, LearnMove } from '../core/protocol.ts';
import { LEARN_PREFIX, LEARN_PROGRESS, LEARN_RECORDING } from '../core/addresses.ts';

/** A learn move; a refusal becomes a notice. */
const move = (m: LearnMove, ...args: Array<string | number>) => run({ cmd: 'learn', move: m, args });

/** A parameter as the page names it: its last two address segments. */
const label = (address: string) => address.split('/').slice(-2).join(' ');

type Role = 'inputs' | 'targets';

/**
 * What the picker offers: parameters that fit the role (inputs: numbers and switches; targets:
 * writable numbers), and for runs of numbered ones (/netbend/wek/inputs/0 ...) a pattern for all.
 */
function candidates(role: Role): Array<{ value: string; text: string }> {
  const fits = paramList.value.filter((a) => {
    const p = param(a).peek();
    if (!p || a.startsWith(LEARN_PREFIX) || p.type === 'trigger') return false;
    if (role === 'inputs') return p.type === 'float' || p.type === 'int' || p.type === 'bool';
    return (p.type === 'float' || p.type === 'int') && !p.readOnly && !a.startsWith('/netbend/ctl/');
  });
  const groups = new Map<string, number>();
  for (const a of fits) {
    const m = /^(.*)\/\d+$/.exec(a);
    if (m) groups.set(m[1]!, (groups.get(m[1]!) ?? 0) + 1);
  }
  const all = [...groups].filter(([, n]) => n > 1).map(([prefix, n]) => ({ value: `${prefix}/*`, text: `${prefix}/* (all ${n})` }));
  return [...all, ...fits.map((a) => ({ value: a, text: a }))];
}

function Columns({ which: role, info }: { which: Role; info: LearnInfo }) {
  const chosen = info[role];
  const options = candidates(role);
  const [pick, setPick] = useState('');
  const value = options.some((o) => o.value === pick) ? pick : (options.find((o) => !chosen.includes(o.value))?.value ?? '');
  const locked = info.examples > 0;
  const choose = (list: string[]) => move(role, list.length ? list.join(',') : '-');
  return (
    <div class="learn-columns" id={`learn-${role}`}>
      <div class="row">
        <span class="lc-role">{role}</span>
        <select
          id={`learn-${role}-pick`}
          class="grow mono"
          aria-label={`a parameter to add to the ${role}`}
          value={value}
          disabled={locked}
          onChange={(e) => setPick((e.target as HTMLSelectElement).value)}
        >
          {options.map((o) => (
            <option value={o.value}>{o.text}</option>
          ))}
        </select>
        <button type="button" id={`learn-${role}-add`} disabled={!value || locked} title={`add to the ${role}`} onClick={() => choose([...chosen, value])}>
          add
        </button>
      </div>
      <div class="lc-list">
        {chosen.length === 0 && (
          <span class="hint">{role === 'inputs' ? 'what the mapping listens to: knobs, OSC values, model outputs, sketch cells' : 'what it drives: source values, edit and bend amounts, knobs'}</span>
        )}
        {chosen.map((a) => (
          <span class="lc-chip mono" data-address={a} title={a}>
            {label(a)}
            <button type="button" class="icon remove" disabled={locked} aria-label={`remove ${a} from the ${role}`} onClick={() => choose(chosen.filter((x) => x !== a))}>
              ✕
            </button>
          </span>
        ))}
      </div>
    </div>
  );
}

const shown = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function Examples({ info }: { info: LearnInfo }) {
  const holding = param(LEARN_RECORDING).value?.value === true;
  const ready = info.inputs.length > 0 && info.targets.length > 0 && !info.playing;
  const [name, setName] = useState('');
  const [loading, setLoading] = useState('');
  const hold = (on: boolean) => {
    if (on !== holding) setParam(LEARN_RECORDING, on);
  };
  const loadName = info.datasets.includes(loading) ? loading : (info.datasets[0] ?? '');
  return (
    <div class="block" id="learn-examples">
      <div class="block-title">
        examples{' '}
        <span class="count num" id="learn-count">
          {info.examples}
        </span>
        {info.name && <span class="mono">{info.name}</span>}
      </div>
      <div class="row">
        <button type="button" id="learn-record" class="primary" disabled={!ready} title="record one example: the inputs and targets as they are now" onClick={() => move('record')}>
          record
        </button>
        <button
          type="button"
          id="learn-hold"
          class={`learn-hold ${holding ? 'on' : ''}`}
          disabled={!ready}
          aria-pressed={holding}
          title="hold to record one example per frame"
          onPointerDown={(e) => {
            (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
            hold(true);
          }}
          onPointerUp={() => hold(false)}
          onPointerCancel={() => hold(false)}
          onLostPointerCapture={() => hold(false)}
        >
          {holding ? '● recording' : 'hold to record'}
        </button>
        <span class="spacer" />
        <button type="button" class="danger" id="learn-clear" disabled={!info.examples} onClick={() => move('clear')}>
          clear
        </button>
      </div>
      {info.playing && <div class="hint">the mapping drives the targets: stop it to record</div>}
      <div class="learn-list" id="learn-list">
        {info.examples > info.recent.length && <div class="hint">… {info.examples - info.recent.length} older</div>}
        {info.recent.map((r) => (
          <div class="learn-example" data-index={r.index}>
            <span class="num le-index">{r.index}</span>
            <span class="num le-values" title="inputs → targets">
              {r.inputs.map(shown).join(' ')}
              {info.inputs.length > r.inputs.length ? ' …' : ''} → {r.targets.map(shown).join(' ')}
              {info.targets.length > r.targets.length ? ' …' : ''}
            </span>
            <button type="button" class="icon remove" aria-label={`delete example ${r.index}`} onClick={() => move('delete', r.index)}>
              ✕
            </button>
          </div>
        ))}
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) move('save', name.trim());
        }}
      >
        <input id="learn-save-name" placeholder={info.name ?? 'name the examples'} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit" id="learn-save" disabled={!info.examples || !name.trim()}>
          save
        </button>
        <select id="learn-load-name" aria-label="saved examples" value={loadName} disabled={!info.datasets.length} onChange={(e) => setLoading((e.target as HTMLSelectElement).value)}>
          {info.datasets.map((d) => (
            <option value={d}>{d}</option>
          ))}
        </select>
        <button type="button" id="learn-load" disabled={!loadName} onClick={() => move('load', loadName)}>
          load
        </button>
      </form>
    </div>
  );
}

const KINDS: Array<[string, string]> = [
  ['knn', 'nearest examples: exact on what was recorded, steps between'],
  ['linear', 'a plane through the examples: smooth, never exact'],
  ['kernel', 'smooth curves through the examples'],
  ['mlp', 'a small neural net: smooth, learns shapes (slower to train)'],
];

function Train({ info }: { info: LearnInfo }) {
  const [kind, setKind] = useState('knn');
  const [hidden, setHidden] = useState('16,16');
  const t = info.training;
  const m = info.mapping;
  const spec = kind === 'mlp' && hidden.trim() ? `mlp:${hidden.replace(/\s+/g, '')}` : kind;
  const progress = Number(param(LEARN_PROGRESS).value?.value ?? 0);
  return (
    <div class="block" id="learn-train-block">
      <div class="block-title">mapping</div>
      <div class="row">
        <select id="learn-kind" aria-label="kind of mapping" value={kind} title={KINDS.find(([k]) => k === kind)?.[1]} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          {KINDS.map(([k, why]) => (
            <option value={k} title={why}>
              {k}
            </option>
          ))}
        </select>
        {kind === 'mlp' && (
          <input
            id="learn-hidden"
            class="mono"
            aria-label="hidden layer sizes"
            title="hidden layer sizes, e.g. 16,16"
            value={hidden}
            onInput={(e) => setHidden((e.target as HTMLInputElement).value)}
          />
        )}
        <span class="spacer" />
        {t ? (
          <button type="button" id="learn-cancel" onClick={() => move('cancel')}>
            cancel
          </button>
        ) : (
          <button type="button" id="learn-train" class="primary" disabled={!info.examples} title="train a mapping from the examples (off the frame loop)" onClick={() => move('train', spec)}>
            train
          </button>
        )}
      </div>
      {t && (
        <div class="learn-progress" id="learn-progress" role="progressbar" aria-valuemin={0} aria-valuemax={1} aria-valuenow={progress}>
          <span class="lp-bar" style={{ width: `${Math.round(progress * 100)}%` }} />
          <span class="lp-text">
            {t.name}: {t.stage === 'training' && t.pass === 'refit' ? 'training again on every example' : t.stage === 'training' && t.pass === 'validate' ? 'training and measuring' : t.stage}
            {t.stage === 'training' && t.epochs && t.epochs > 1 ? ` ${t.epoch ?? 0}/${t.epochs}` : ''}
            {t.loss !== undefined ? ` · loss ${t.loss.toPrecision(3)}` : ''}
          </span>
        </div>
      )}
      {m && (
        <div class="learn-card" id="learn-card" data-name={m.name}>
          <div>
            <b class="mono">{m.name}</b>{' '}
            <span class="dim">
              {m.model} · {m.inputs} → {m.targets} · {m.examples} examples
            </span>
          </div>
          <div title={m.validationRmsePerTarget.length ? `per target: ${m.validationRmsePerTarget.map((v) => v.toPrecision(3)).join(', ')}` : undefined}>
            <span class="dim">validation error (RMSE)</span>{' '}
            <b class="num" id="learn-rmse">
              {Number.isFinite(m.validationRmse) ? m.validationRmse.toPrecision(3) : '–'}
            </b>
          </div>
        </div>
      )}
      <div class="row">
        {info.playing ? (
          <button type="button" id="learn-stop" class="learn-play on" onClick={() => move('play', 0)}>
            ■ stop {info.playing}
          </button>
        ) : (
          <button type="button" id="learn-play" class="learn-play" disabled={!m} title="play the mapping: its outputs drive the targets" onClick={() => move('play', 1)}>
            ▶ play {m?.name ?? ''}
          </button>
        )}
        {info.mappers.length > 0 && !info.playing && (
          <select
            id="learn-mappers"
            aria-label="play a saved mapping"
            value=""
            onChange={(e) => {
              const n = (e.target as HTMLSelectElement).value;
              if (n) move('play', 1, n);
            }}
          >
            <option value="">saved…</option>
            {info.mappers.map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        )}
      </div>
      <div class="hint">
        OSC: <span class="mono">/wek/inputs</span> floats land on <span class="mono">/netbend/wek/inputs/*</span>; a playing mapping sends <span class="mono">/wek/outputs</span>
      </div>
    </div>
  );
}

export function LearnPanel() {
  const info = learn.value;
  if (!info) return <div class="hint pad">connecting to the engine…</div>;
  return (
    <div class="panel-body" id="learn-panel">
      <div class="block">
        <div class="block-title">columns</div>
        <Columns which="inputs" info={info} />
        <Columns which="targets" info={info} />
        {info.examples > 0 && <div class="hint">the columns hold while there are examples: save or clear them to change</div>}
      </div>
      <Examples info={info} />
      <Train info={info} />
    </div>
  );
}

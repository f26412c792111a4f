// Controls bound to registry parameters: every move is a `set` to the server, and every value shown
// is the server's (so OSC and MIDI moves show up here too).
import { params, learning, send, setParam } from './connection.ts';
import type { ParamInfo } from '../server/protocol.ts';

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3));

function Address({ p }: { p: ParamInfo }) {
  return (
    <button class="address" title="OSC address: click to copy" onClick={() => navigator.clipboard?.writeText(p.address).catch(() => {})}>
      {p.address}
    </button>
  );
}

function Learn({ p }: { p: ParamInfo }) {
  const armed = learning.value === p.address;
  return (
    <button class={`learn ${armed ? 'armed' : ''}`} title="MIDI learn: click, then move a control" onClick={() => send({ cmd: 'midiLearn', address: armed ? null : p.address }).catch(() => {})}>
      {armed ? 'move…' : 'learn'}
    </button>
  );
}

export function Param({ address, label, showAddress = true }: { address: string; label?: string; showAddress?: boolean }) {
  const p = params.value[address];
  if (!p) return null;
  const name = label ?? address.split('/').slice(-2).join(' ');
  if (p.type === 'bool') {
    return (
      <div class="param">
        <label>
          <input type="checkbox" checked={p.value === true} onChange={(e) => setParam(address, (e.target as HTMLInputElement).checked)} /> {name}
        </label>
        <Learn p={p} />
        {showAddress && <Address p={p} />}
      </div>
    );
  }
  if (p.type === 'enum') {
    return (
      <div class="param">
        <span class="name">{name}</span>
        <select value={String(p.value)} onChange={(e) => setParam(address, (e.target as HTMLSelectElement).value)}>
          {p.options?.map((o) => <option value={o}>{o}</option>)}
        </select>
        {showAddress && <Address p={p} />}
      </div>
    );
  }
  if (p.type === 'trigger') {
    return (
      <div class="param">
        <button onClick={() => setParam(address, true)}>{name}</button>
        <Learn p={p} />
        {showAddress && <Address p={p} />}
      </div>
    );
  }
  if (p.type !== 'float' && p.type !== 'int') return null;
  const v = Number(p.value);
  const min = Math.min(p.min ?? 0, v);
  const max = Math.max(p.max ?? 1, v);
  const step = p.type === 'int' ? 1 : (max - min) / 1000;
  return (
    <div class="param" data-address={address}>
      <span class="name" title={p.description}>{name}</span>
      <input type="range" min={min} max={max} step={step} value={v} disabled={p.readOnly} onInput={(e) => setParam(address, Number((e.target as HTMLInputElement).value))} />
      <span class="value">{p.type === 'int' ? String(v) : fmt(v)}</span>
      {!p.readOnly && <Learn p={p} />}
      {showAddress && <Address p={p} />}
    </div>
  );
}

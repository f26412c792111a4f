// The model: its name, the blend partner, the layer tree (per-layer blend toward the partner,
// per-layer edits, a click to look at the layer), the edits in place and the way back.
import { useState } from 'preact/hooks';
import { bends, blendOwn, edits, layers, model, param, partner, run, send, size } from './connection.ts';
import { ModelBrowser, partnerChoices, playModel } from './model-browser.tsx';
import { selectLayer, shapeText } from './views.tsx';
import { tapLayer, treeOpen } from './ui-state.ts';
import { Bar, ParamRow } from './widgets.tsx';
import { BendAdder, Bends, bendable } from './bend-panel.tsx';
import type { LayerInfo } from '../core/protocol.ts';
import { BLEND_ALL } from '../core/addresses.ts';

const OPS = ['scale', 'offset', 'set', 'noise', 'ablate'] as const;
type Op = (typeof OPS)[number];
/** A sensible first amount per op: visible, not destructive. */
const FIRST_AMOUNT: Record<Op, number> = { scale: 1.5, offset: 0.1, set: 0, noise: 0.3, ablate: 0.5 };

export { BLEND_ALL };
const base = (p: string) => p.split(/[\\/]/).pop() ?? p;

/** Another model from the model folders (a file name, or a path); asks first when locked. */
function ModelPicker() {
  const [file, setFile] = useState('');
  const [busy, setBusy] = useState(false);
  const load = () => {
    const f = file.trim();
    if (!f) return;
    setBusy(true);
    playModel(f).then(
      () => (setBusy(false), setFile('')),
      () => setBusy(false),
    );
  };
  return (
    <form
      class="row model-picker"
      onSubmit={(e) => {
        e.preventDefault();
        load();
      }}
    >
      <input id="model-file" spellcheck={false} placeholder="another model .onnx (from the model folders)" value={file} onInput={(e) => setFile((e.target as HTMLInputElement).value)} />
      <button id="model-load" type="submit" class="primary" disabled={busy || !file.trim()} title="switch to this model (asks first when locked)">
        {busy ? 'loading…' : 'load'}
      </button>
    </form>
  );
}

function Partner() {
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const load = (p: string | null) => {
    setBusy(true);
    send({ cmd: 'loadPartner', path: p }).then(
      () => setBusy(false),
      () => setBusy(false),
    );
  };
  const current = partner.value;
  return (
    <div class="block">
      <div class="block-title">
        blend partner
        {current && (
          <span class="partner-name" title={current}>
            {base(current)}
          </span>
        )}
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (path.trim()) load(path.trim());
        }}
      >
        <input id="partner-path" spellcheck={false} placeholder="partner .onnx (same layer names)" value={path} onInput={(e) => setPath((e.target as HTMLInputElement).value)} />
        <button id="load-partner" type="submit" class="primary" disabled={busy || !path.trim()}>
          {busy ? 'loading…' : 'load'}
        </button>
        <button type="button" id="unload-partner" disabled={busy || !current} onClick={() => load(null)} title="drop the partner">
          unload
        </button>
      </form>
      {partnerChoices().length > 0 && (
        <select
          id="partner-pick"
          aria-label="a compatible partner from the model folders"
          value=""
          disabled={busy}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            if (v) load(v);
          }}
        >
          <option value="">compatible partners in the model folders…</option>
          {partnerChoices().map((m) => (
            <option value={m.path}>{m.name}</option>
          ))}
        </select>
      )}
      {current ? <ParamRow address={BLEND_ALL} label="blend all" kind="blend" ticks={[1]} /> : <div class="hint">load a partner to blend toward it, per layer or all at once</div>}
    </div>
  );
}

function EditAdder({ target, onClose, fixed }: { target: string; onClose?: () => void; fixed?: boolean }) {
  const [op, setOp] = useState<Op>('scale');
  const [amount, setAmount] = useState(String(FIRST_AMOUNT.scale));
  const [glob, setGlob] = useState(target);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const add = () => {
    const t = fixed ? target : glob.trim();
    if (!t) return;
    const n = name.trim();
    setBusy(true);
    send({ cmd: 'addEdit', target: t, op, amount: Number(amount) || 0, ...(n ? { name: n } : {}) }).then(
      () => (setBusy(false), setName(''), onClose?.()),
      () => setBusy(false),
    );
  };
  // The adder under the edit list has ids (one on the page); the per-layer ones do not.
  const id = (s: string) => (fixed ? undefined : `edit-${s}`);
  return (
    <form
      class="row edit-adder"
      onSubmit={(e) => {
        e.preventDefault();
        add();
      }}
    >
      {!fixed && (
        <input
          id={id('target')}
          class="grow"
          spellcheck={false}
          placeholder="layer, weight or glob (G.synthesis.L6*.weight)"
          value={glob}
          onInput={(e) => setGlob((e.target as HTMLInputElement).value)}
        />
      )}
      {!fixed && (
        <input
          id={id('name')}
          class="edit-name"
          aria-label="edit name"
          spellcheck={false}
          placeholder="name"
          title="the slot's name: its amount is /netbend/edit/<name>/amount (empty: derived from the target and op)"
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      )}
      <select
        id={id('op')}
        aria-label="edit op"
        class="op-select"
        value={op}
        onChange={(e) => {
          const o = (e.target as HTMLSelectElement).value as Op;
          setOp(o);
          setAmount(String(FIRST_AMOUNT[o]));
        }}
      >
        {OPS.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
      <input id={id('amount')} class="num amount" aria-label="amount" inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
      <button id={id('add')} type="submit" class="primary" disabled={busy}>
        {busy ? '…' : 'add edit'}
      </button>
      {onClose && (
        <button type="button" class="icon" aria-label="cancel" onClick={onClose}>
          ✕
        </button>
      )}
    </form>
  );
}

function isOpen(l: LayerInfo, depth: number): boolean {
  return treeOpen.value[l.path] ?? depth < 2;
}

function LayerRows({ list, depth, adding, setAdding, inherited }: { list: LayerInfo[]; depth: number; adding: string; setAdding: (p: string) => void; inherited: number }) {
  const blending = !!partner.value;
  const own = blendOwn.value;
  const bentHere = new Map<string, number>();
  for (const b of bends.value) bentHere.set(b.layer, (bentHere.get(b.layer) ?? 0) + 1);
  return (
    <>
      {list.map((l) => {
        const open = isOpen(l, depth);
        const name = depth === 0 ? l.path : l.path.slice(l.path.lastIndexOf('.') + 1);
        const viewing = tapLayer.value === l.path;
        const address = `/netbend/blend/${l.path}`;
        const owned = own.has(address);
        // What this layer's weights really get: its own amount, else what it inherits.
        const effective = blending && l.weights > 0 && owned ? Number(param(address).value?.value ?? 0) : inherited;
        return (
          <>
            <div class={`lrow ${viewing ? 'viewing' : ''}`} style={{ '--depth': depth }} data-layer={l.path}>
              {l.children.length ? (
                <button type="button" class="chev" aria-expanded={open} aria-label={open ? 'collapse' : 'expand'} onClick={() => (treeOpen.value = { ...treeOpen.value, [l.path]: !open })}>
                  {open ? '▾' : '▸'}
                </button>
              ) : (
                <span class="chev" />
              )}
              <button type="button" class="lname" title={`${l.path}\nclick: show in the layer view`} disabled={!l.tappable} onClick={() => selectLayer(viewing ? '' : l.path)}>
                {name}
              </button>
              <span class="lshape num">{shapeText(l.shape)}</span>
              {blending && <span class="lblend">{l.weights > 0 && <Bar address={address} label="" kind="blend" ticks={[1]} inherited={owned ? undefined : inherited} />}</span>}
              <button
                type="button"
                class={`icon add ${adding === l.path ? 'on' : ''}`}
                disabled={l.weights === 0}
                title={l.weights ? `add an edit to ${l.path} (${l.weights} weights)` : 'no weights here'}
                onClick={() => setAdding(adding === l.path ? '' : l.path)}
              >
                +
              </button>
              <button
                type="button"
                class={`icon bend-add ${adding === `bend:${l.path}` ? 'on' : ''} ${bentHere.has(l.path) ? 'bent' : ''}`}
                disabled={!bendable(l.shape)}
                aria-label={`bend the output of ${l.path}`}
                title={
                  bendable(l.shape)
                    ? `bend the map ${l.path} hands on (rotate, blur, ablate, ...)${bentHere.has(l.path) ? `: ${bentHere.get(l.path)} in place` : ''}`
                    : 'only [1, C, H, W] maps can be bent'
                }
                onClick={() => setAdding(adding === `bend:${l.path}` ? '' : `bend:${l.path}`)}
              >
                ≈
              </button>
            </div>
            {adding === l.path && (
              <div class="lrow-adder" style={{ '--depth': depth }}>
                <EditAdder target={l.path} fixed onClose={() => setAdding('')} />
              </div>
            )}
            {adding === `bend:${l.path}` && (
              <div class="lrow-adder" style={{ '--depth': depth }}>
                <BendAdder layer={l.path} onClose={() => setAdding('')} />
              </div>
            )}
            {open && l.children.length > 0 && <LayerRows list={l.children} depth={depth + 1} adding={adding} setAdding={setAdding} inherited={effective} />}
          </>
        );
      })}
    </>
  );
}

function Edits() {
  const list = edits.value;
  return (
    <div class="block">
      <div class="block-title">
        edits <span class="count num">{list.length}</span>
        <span class="spacer" />
        <button
          type="button"
          id="restore"
          class="danger"
          disabled={list.length === 0 && !partner.value}
          onClick={() => run({ cmd: 'restore' })}
          title="remove every edit and set every blend back to 0: the original weights, exactly"
        >
          restore originals
        </button>
      </div>
      {list.length === 0 && <div class="hint">none: use + on a layer, or a glob below</div>}
      <div class="edits">
        {list.map((e) => (
          <div class="edit" data-edit={e.name}>
            <ParamRow
              address={e.address}
              label={e.name}
              kind="edit"
              ticks={e.op === 'scale' ? [1] : undefined}
              extra={
                <button
                  type="button"
                  class="icon remove"
                  aria-label={`remove edit ${e.name}`}
                  title={`remove this edit (${e.op} ${e.target})`}
                  onClick={() => run({ cmd: 'removeEdit', edit: e.name })}
                >
                  ✕
                </button>
              }
            />
          </div>
        ))}
      </div>
      <EditAdder target="" />
    </div>
  );
}

export function ModelPanel() {
  const [adding, setAdding] = useState('');
  const [w, h] = size.value;
  return (
    <div class="panel-body">
      <div class="model-head">
        <span class="model-name" title={model.value}>
          {base(model.value) || '…'}
        </span>
        <span class="num dim">{w ? `${w}×${h}` : ''}</span>
      </div>
      <ModelPicker />
      <ModelBrowser />
      <Partner />
      <Edits />
      <Bends />
      <div class="block">
        <div class="block-title">
          layers
          <span class="spacer" />
          <span class="hint lower">click a name to view it</span>
        </div>
        <div class={`tree ${partner.value ? 'blending' : ''}`} id="layer-tree">
          <LayerRows list={layers.value} depth={0} adding={adding} setAdding={setAdding} inherited={Number(param(BLEND_ALL).value?.value ?? 0)} />
        </div>
      </div>
    </div>
  );
}

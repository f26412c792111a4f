// Feature-map bending on the page: an adder for a layer (on its row in the model panel and in the
// layer view), and a card per op with its live values (amount, its own extras, channels, seed,
// bypass), its place in the order ops apply and a remove. Every control is a parameter or a move,
// so it is the same scene OSC and MIDI play.
import { useState } from 'preact/hooks';
import { bends, run, send } from './connection.ts';
import { ParamRow } from './widgets.tsx';
import { FEATURE_OP_NAMES, FEATURE_OPS, type FeatureOp } from '../engine/bend/feature-ops.ts';
import type { BendInfo } from '../core/protocol.ts';

/** A first amount per op that shows at once without wrecking the picture. */
const FIRST_AMOUNT: Record<FeatureOp, number> = {
  translate: 0.25,
  rotate: 90,
  zoom: 1.5,
  flip: 1,
  mirror: 1,
  erode: 1,
  dilate: 1,
  blur: 1,
  sharpen: 1,
  edges: 1,
  threshold: 1,
  invert: 1,
  multiply: 2,
  add: 0.5,
  noise: 0.5,
  ablate: 1,
  swap: 1,
};

const short = (layer: string) => layer.replace(/^G\.(synthesis\.)?/, '');

/** Whether a layer hands on a [1, C, H, W] map, the only kind feature-map ops bend. */
export const bendable = (shape: Array<number | string> | undefined) => shape?.length === 4 && shape.every((d) => typeof d === 'number');

export function BendAdder({ layer, onClose, idPrefix }: { layer: string; onClose?: () => void; idPrefix?: string }) {
  const [op, setOp] = useState<FeatureOp>('rotate');
  const [amount, setAmount] = useState(String(FIRST_AMOUNT.rotate));
  const [channels, setChannels] = useState('all');
  const [busy, setBusy] = useState(false);
  const id = (s: string) => (idPrefix ? `${idPrefix}-${s}` : undefined);
  const add = () => {
    setBusy(true);
    const values = { amount: Number(amount) || 0, ...(channels.trim() && channels.trim() !== 'all' ? { channels: channels.trim() } : {}) };
    send({ cmd: 'addBend', layer, op, values }).then(
      () => (setBusy(false), onClose?.()),
      () => setBusy(false),
    );
  };
  return (
    <form
      class="row bend-adder"
      data-layer={layer}
      onSubmit={(e) => {
        e.preventDefault();
        add();
      }}
    >
      <select
        id={id('op')}
        aria-label="feature-map op"
        class="op-select"
        value={op}
        title={FEATURE_OPS[op].description}
        onChange={(e) => {
          const o = (e.target as HTMLSelectElement).value as FeatureOp;
          setOp(o);
          setAmount(String(FIRST_AMOUNT[o]));
        }}
      >
        {FEATURE_OP_NAMES.map((o) => (
          <option value={o} title={FEATURE_OPS[o].description}>
            {o}
          </option>
        ))}
      </select>
      <input id={id('amount')} class="num amount" aria-label="amount" inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
      <input
        id={id('channels')}
        class="channels"
        aria-label="channels"
        spellcheck={false}
        title="which channels: all, share:0.3, range:0-15, list:1,5,9, cluster:2 (similar features), pc:0 (a principal component's top channels)"
        value={channels}
        onInput={(e) => setChannels((e.target as HTMLInputElement).value)}
      />
      <button id={id('add')} type="submit" class="primary" disabled={busy} title={`add ${op} after ${layer}`}>
        {busy ? '…' : 'bend'}
      </button>
      {onClose && (
        <button type="button" class="icon" aria-label="cancel" onClick={onClose}>
          ✕
        </button>
      )}
    </form>
  );
}

function BendCard({ b, index, count }: { b: BendInfo; index: number; count: number }) {
  const info = FEATURE_OPS[b.op as FeatureOp];
  const neutral = Number(info?.amount.default ?? 0);
  return (
    <div class="bend" data-bend={b.name}>
      <div class="bend-head">
        <span class="bend-op">{b.op}</span>
        <span class="mono dim bend-layer" title={b.layer}>
          {short(b.layer)}
        </span>
        <span class="spacer" />
        <button type="button" class="icon" aria-label={`move ${b.name} earlier`} title="apply earlier" disabled={index === 0} onClick={() => run({ cmd: 'moveBend', bend: b.name, index: index - 1 })}>
          ▴
        </button>
        <button
          type="button"
          class="icon"
          aria-label={`move ${b.name} later`}
          title="apply later"
          disabled={index === count - 1}
          onClick={() => run({ cmd: 'moveBend', bend: b.name, index: index + 1 })}
        >
          ▾
        </button>
        <button type="button" class="icon remove" aria-label={`remove bend ${b.name}`} title={`remove ${b.name}`} onClick={() => run({ cmd: 'removeBend', bend: b.name })}>
          ✕
        </button>
      </div>
      <ParamRow address={`${b.root}/amount`} label={b.name} kind="edit" ticks={[neutral]} />
      {info?.extra.map((e) => (
        <ParamRow address={`${b.root}/${e.key}`} label={e.key} showAddress={false} />
      ))}
      <ParamRow address={`${b.root}/channels`} label="channels" showAddress={false} />
      <ParamRow address={`${b.root}/bypass`} label="bypass" showAddress={false} />
    </div>
  );
}

/** Every op in place, in the order they apply (or only those on `layer`). */
export function BendList({ layer }: { layer?: string }) {
  const all = bends.value;
  const shown = layer === undefined ? all : all.filter((b) => b.layer === layer);
  return (
    <div class="bends">
      {shown.map((b) => (
        <BendCard b={b} index={all.indexOf(b)} count={all.length} />
      ))}
    </div>
  );
}

/** The model panel's block: every op, with a pointer to where they are added. */
export function Bends() {
  const list = bends.value;
  return (
    <div class="block" id="bends">
      <div class="block-title">
        feature-map bends <span class="count num">{list.length}</span>
        <span class="spacer" />
        <button type="button" class="danger" disabled={list.length === 0} onClick={() => run({ cmd: 'clearBends' })} title="remove every feature-map op">
          clear
        </button>
      </div>
      {list.length === 0 && <div class="hint">none: use ≈ on a layer, or bend the layer you are viewing</div>}
      <BendList />
    </div>
  );
}

/** The layer view's strip: the ops on the viewed layer and an adder; its tap shows them applied. */
export function LayerBends({ layer, shape }: { layer: string; shape: Array<number | string> | undefined }) {
  const [open, setOpen] = useState(false);
  if (!layer || !bendable(shape)) return null;
  const here = bends.value.filter((b) => b.layer === layer).length;
  return (
    <div class="layer-bends" id="layer-bends">
      <button type="button" class="fold" aria-expanded={open} onClick={() => setOpen(!open)} title="feature-map ops after this layer: the view shows the bent map">
        {open ? '▾' : '▸'} bend this layer {here > 0 && <span class="count num">{here}</span>}
      </button>
      {open && (
        <>
          <BendList layer={layer} />
          <BendAdder layer={layer} idPrefix="layer-bend" />
        </>
      )}
    </div>
  );
}

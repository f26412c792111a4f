// W space on the page (when the model has one): truncation toward the average w, style mixing from
// a second seed, and the principal directions of w, each an amount with the layer range it moves.
// Every control is a parameter, so MIDI, OSC, modulators, audio and mappings reach them too. The
// direction sets (found from sampled z, saved and loaded by name) are the show's moves, as OSC
// makes them (/netbend/latent/directions/*); loading one is an undo step.
import { useEffect, useState } from 'preact/hooks';
import { directionSet, param, paramList, send } from './connection.ts';
import { ParamRow } from './widgets.tsx';

/** What the directions command replies (DirectionSets in app/scene/direction-moves.ts). */
interface DirectionSets {
  sets: string[];
  current: string | null;
}

function DirectionSetRow() {
  const [info, setInfo] = useState<DirectionSets>({ sets: [], current: null });
  const [name, setName] = useState('');
  const [pick, setPick] = useState('');
  const [busy, setBusy] = useState('');
  const go = async (action: 'compute' | 'save' | 'load' | 'list', n?: string) => {
    setBusy(action);
    try {
      const got = (await send({ cmd: 'directions', action, ...(n ? { name: n } : {}) })) as DirectionSets | undefined;
      if (got) {
        setInfo(got);
        if (!pick && got.sets.length) setPick(got.current ?? got.sets[0]!);
      }
    } catch {
      // Said as a notice already.
    } finally {
      setBusy('');
    }
  };
  // Listed again whenever the set played changes (from here, OSC, an undo, a preset).
  const playing = directionSet.value;
  useEffect(() => void go('list'), [playing]);
  const clean = name.trim();
  return (
    <div class="direction-sets" id="direction-sets">
      <div class="row">
        <span class="hint" id="direction-set-current">
          playing: {playing ?? 'found from sampled z'}
        </span>
        <button type="button" id="directions-compute" disabled={busy !== ''} title="find the principal directions of w from sampled z and play them" onClick={() => go('compute')}>
          {busy === 'compute' ? 'finding…' : 'find'}
        </button>
      </div>
      <div class="row">
        <select id="direction-set-pick" value={pick} disabled={!info.sets.length} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
          {info.sets.length === 0 && <option value="">no sets saved</option>}
          {info.sets.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
        <button type="button" id="direction-set-load" disabled={busy !== '' || !pick} onClick={() => go('load', pick)}>
          load
        </button>
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (clean) void go('save', clean);
        }}
      >
        <input id="direction-set-name" spellcheck={false} placeholder="name this set" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button id="direction-set-save" type="submit" disabled={busy !== '' || !/^[\w][\w.-]{0,63}$/.test(clean)}>
          {busy === 'save' ? 'saving…' : 'save'}
        </button>
      </form>
    </div>
  );
}

const L = '/netbend/latent/';

export function LatentPanel() {
  if (!param(`${L}truncation`).value) return null;
  const directions = [...new Set(paramList.value.flatMap((a) => /^\/netbend\/latent\/direction\/(\d+)\/amount$/.exec(a)?.[1] ?? []))].sort((a, b) => Number(a) - Number(b));
  return (
    <div class="panel-body" id="latent-panel">
      <div class="block">
        <div class="block-title">w space</div>
        <ParamRow address={`${L}truncation`} label="truncation" kind="source" ticks={[1]} />
        <ParamRow address={`${L}mix/seed`} label="mix seed" kind="source" />
        <ParamRow address={`${L}mix/from`} label="mix from layer" kind="source" />
      </div>
      <div class="block">
        <div class="block-title">
          directions <span class="count num">{directions.length}</span>
        </div>
        <DirectionSetRow />
        {directions.map((k) => (
          <div class="direction" data-direction={k}>
            <ParamRow address={`${L}direction/${k}/amount`} label={`direction ${k}`} kind="source" ticks={[0]} />
            <div class="direction-range">
              <ParamRow address={`${L}direction/${k}/from`} label="from layer" showAddress={false} />
              <ParamRow address={`${L}direction/${k}/to`} label="to" showAddress={false} />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

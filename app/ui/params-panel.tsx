// Sources (everything under /netbend/source/) and every parameter of the registry, generic: the
// right control for each type, its OSC address (click to copy) and MIDI learn.
import { useState } from 'preact/hooks';
import { paramList, sketches } from './connection.ts';
import { SketchPad } from './sketch-pad.tsx';

const sketchOf = (input: string) => sketches.value.find((s) => s.input === input);
import { paramFilter } from './ui-state.ts';
import { ParamRow } from './widgets.tsx';

const SOURCE = '/netbend/source/';

export function SourcesPanel() {
  const groups = new Map<string, string[]>();
  for (const a of paramList.value) {
    if (!a.startsWith(SOURCE)) continue;
    const name = a.slice(SOURCE.length).split('/')[0]!;
    groups.set(name, [...(groups.get(name) ?? []), a]);
  }
  return (
    <div class="panel-body" id="sources-panel">
      {groups.size === 0 && <div class="hint">this model has no animated sources</div>}
      {[...groups].map(([name, list]) => (
        <div class="block">
          <div class="block-title">
            <span class="mono">{name}</span>
            <span class="count num">{list.length}</span>
          </div>
          {list.map((a) => (
            <ParamRow address={a} label={a.slice(SOURCE.length + name.length + 1).replace(/\//g, ' ')} kind="source" />
          ))}
          {sketchOf(name) && <SketchPad {...sketchOf(name)!} />}
        </div>
      ))}
    </div>
  );
}

/** Groups with more parameters than this start folded (the per-layer blends, say). */
const FOLD_OVER = 12;

export function ParamsPanel() {
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const filter = paramFilter.value.trim().toLowerCase();
  const groups = new Map<string, string[]>();
  for (const a of paramList.value) {
    if (filter && !a.toLowerCase().includes(filter)) continue;
    const g = a.split('/')[2] ?? '';
    groups.set(g, [...(groups.get(g) ?? []), a]);
  }
  return (
    <div class="panel-body" id="params-panel">
      <div class="row sticky">
        <input
          type="search"
          class="grow"
          id="param-filter"
          spellcheck={false}
          placeholder={`filter ${paramList.value.length} parameters by address`}
          value={paramFilter.value}
          onInput={(e) => (paramFilter.value = (e.target as HTMLInputElement).value)}
        />
      </div>
      {groups.size === 0 && <div class="hint">no parameter matches</div>}
      {[...groups].map(([g, list]) => {
        const isOpen = filter ? true : (open[g] ?? list.length <= FOLD_OVER);
        return (
          <div class="block">
            <button type="button" class="block-title fold" aria-expanded={isOpen} onClick={() => setOpen({ ...open, [g]: !isOpen })}>
              <span class="chev">{isOpen ? '▾' : '▸'}</span>
              <span class="mono">{g}</span>
              <span class="count num">{list.length}</span>
            </button>
            {isOpen && list.map((a) => <ParamRow address={a} label={a.split('/').slice(3).join(' ')} kind={g === 'blend' ? 'blend' : g === 'edit' ? 'edit' : g === 'source' ? 'source' : 'plain'} />)}
          </div>
        );
      })}
    </div>
  );
}

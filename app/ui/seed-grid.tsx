// The seed grid in the sources tab: an n x n grid of seeds, or of latents around the current one
// at a spread, rendered by the server off the frame path and shown at the model's size scaled to
// the cell. A click on a cell jumps there, glides there, or keeps it as the next keyframe of the
// input's keyframe loop, as the action row says.
import { useState } from 'preact/hooks';
import { send } from './connection.ts';
import { Segmented } from './segmented.tsx';

type Action = 'jump' | 'glide' | 'keep';

/** A cell as the seedGrid command replies with it (GridCellPng in app/engine/seed-grid.ts). */
interface GridCellPng {
  index: number;
  seed: number | undefined;
  width: number;
  height: number;
  png: string;
}

export function SeedGridPanel() {
  const [n, setN] = useState(4);
  const [around, setAround] = useState(false);
  const [spread, setSpread] = useState(0.5);
  const [seed, setSeed] = useState(0);
  const [action, setAction] = useState<Action>('jump');
  const [cells, setCells] = useState<GridCellPng[]>([]);
  const [busy, setBusy] = useState(false);
  const [picked, setPicked] = useState<number | null>(null);
  const [kept, setKept] = useState<number | null>(null);

  const render = async () => {
    setBusy(true);
    try {
      const got = (await send({ cmd: 'seedGrid', n, mode: around ? 'around' : 'seeds', seed, spread })) as GridCellPng[] | undefined;
      if (got) {
        setCells(got);
        setPicked(null);
      }
    } finally {
      setBusy(false);
    }
  };
  const pick = async (index: number) => {
    const result = await send({ cmd: 'seedPick', index, action });
    setPicked(index);
    if (action === 'keep' && typeof result === 'number') setKept(result);
  };

  return (
    <div class="panel-body">
      <div class="block" id="seed-grid">
        <div class="block-title">
          <span>seed grid</span>
          {kept !== null && (
            <span class="count num" title="keyframes kept">
              {kept} kept
            </span>
          )}
        </div>
        <div class="row">
          <Segmented
            label="cells per side"
            value={n}
            options={[
              [3, '3x3'],
              [4, '4x4'],
              [5, '5x5'],
            ]}
            onChange={setN}
          />
          <label>
            <input type="checkbox" id="seed-grid-around" checked={around} onChange={(e) => setAround((e.target as HTMLInputElement).checked)} /> around current
          </label>
        </div>
        <div class="row">
          <label>
            spread <input type="range" id="seed-grid-spread" min={0} max={2} step={0.05} value={spread} disabled={!around} onInput={(e) => setSpread(Number((e.target as HTMLInputElement).value))} />
            <span class="num">{spread.toFixed(2)}</span>
          </label>
          <label>
            from seed{' '}
            <input type="number" id="seed-grid-seed" class="num" min={0} step={1} value={seed} onChange={(e) => setSeed(Math.max(0, Math.trunc(Number((e.target as HTMLInputElement).value)) || 0))} />
          </label>
        </div>
        <div class="row">
          <button type="button" id="seed-grid-render" disabled={busy} onClick={() => void render()}>
            {busy ? 'rendering' : 'render grid'}
          </button>
          <Segmented
            label="click does"
            id="seed-grid-action"
            value={action}
            options={[
              ['jump', 'jump'],
              ['glide', 'glide', 'over 2 s'],
              ['keep', 'keep', 'as the next keyframe (the input plays a keyframe loop)'],
            ]}
            onChange={setAction}
          />
        </div>
        {cells.length > 0 && (
          <div class="seed-cells" style={{ display: 'grid', gridTemplateColumns: `repeat(${Math.round(Math.sqrt(cells.length))}, 1fr)`, gap: '2px' }}>
            {cells.map((c) => (
              <button
                type="button"
                class={`seed-cell ${picked === c.index ? 'on' : ''}`}
                data-cell={c.index}
                data-seed={c.seed ?? ''}
                title={c.seed === undefined ? `cell ${c.index}` : `seed ${c.seed}`}
                style={{ padding: 0, border: 0, width: '100%', height: 'auto', minHeight: 0, aspectRatio: `${c.width} / ${c.height}` }}
                onClick={() => void pick(c.index)}
              >
                <img
                  src={`data:image/png;base64,${c.png}`}
                  alt={c.seed === undefined ? `cell ${c.index}` : `seed ${c.seed}`}
                  style={{ width: '100%', height: 'auto', imageRendering: 'pixelated', display: 'block' }}
                />
              </button>
            ))}
          </div>
        )}
      </div>
    </div>
  );
}

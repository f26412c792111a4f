// The layer wall: up to 9 layers at once, each in its own view (grid, channel or PCA, its own
// colormap), pinned to a layer or following the selected one, beside the output. One tap set for
// all of them (tap-set.ts); each cell draws the newest packet of its layer on the shared frame.
import { useEffect, useRef, useState } from 'preact/hooks';
import { latest, layers, onFrame } from './connection.ts';
import { TapView, type Colormap, type TapMode } from './tap-view.ts';
import { tapLayer, wall, WALL_MAX, type WallCell } from './ui-state.ts';
import { flatLayers, layerOptionText } from './layer-names.ts';
import { Segmented } from './segmented.tsx';
import { syncTaps } from './tap-set.ts';

function setCells(cells: WallCell[]): void {
  wall.value = { ...wall.value, cells };
  syncTaps();
}

export function setWall(on: boolean): void {
  const cells = wall.value.cells.length ? wall.value.cells : [{ layer: null, mode: 'grid' as TapMode, map: 1 as Colormap }];
  wall.value = { on, cells };
  syncTaps();
}

/** The button that switches the layer pane between one view and the wall. */
export function WallToggle() {
  const on = wall.value.on;
  return (
    <button type="button" id="wall-toggle" class={`ghost ${on ? 'on' : ''}`} aria-pressed={on} title="show up to 9 layers at once" onClick={() => setWall(!on)}>
      {on ? 'one layer' : 'wall'}
    </button>
  );
}

function Cell({ cell, index }: { cell: WallCell; index: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [drawn, setDrawn] = useState<[number, number, number]>([0, 0, 0]);
  const layer = cell.layer ?? tapLayer.value;
  const channels = drawn[0];
  const channel = Math.min(cell.channel ?? 0, Math.max(0, channels - 1));
  const live = useRef({ layer, mode: cell.mode, map: cell.map, channel });
  live.current = { layer, mode: cell.mode, map: cell.map, channel };
  useEffect(() => {
    const view = new TapView(ref.current!);
    const off = onFrame(() => {
      const c = live.current;
      if (view.frame({ layer: c.layer, pic: c.layer ? latest.taps.get(c.layer) : undefined, mode: c.mode, map: c.map, channel: c.channel })) setDrawn([...view.tapShape]);
    });
    return () => (off(), view.destroy());
  }, []);
  const all = flatLayers(layers.value).filter((l) => l.tappable);
  const put = (patch: Partial<WallCell>) => setCells(wall.value.cells.map((c, i) => (i === index ? { ...c, ...patch } : c)));
  return (
    <div class="wall-cell" data-cell={index} data-layer={layer} data-drawn={drawn.join('x')}>
      <div class="wall-bar">
        <select aria-label={`layer of view ${index + 1}`} value={cell.layer ?? ''} onChange={(e) => put({ layer: (e.target as HTMLSelectElement).value || null })}>
          <option value="">following: {tapLayer.value ? tapLayer.value.split('.').pop() : 'the selection'}</option>
          {all.map((l) => (
            <option value={l.path}>{layerOptionText(l)}</option>
          ))}
        </select>
        <button type="button" class="wall-x" title="remove this view" aria-label={`remove view ${index + 1}`} onClick={() => setCells(wall.value.cells.filter((_, i) => i !== index))}>
          ×
        </button>
      </div>
      <div class="wall-stage">
        <canvas ref={ref} />
        {!layer && <div class="empty">pick a layer</div>}
      </div>
      <div class="wall-foot">
        <Segmented
          label="view mode"
          value={cell.mode}
          options={[
            ['grid', 'grid'],
            ['channel', 'ch'],
            ['pca', 'PCA'],
          ]}
          onChange={(mode) => put({ mode })}
        />
        <Segmented
          label="colormap"
          value={cell.map}
          disabled={cell.mode === 'pca'}
          options={[
            [1, 'vir'],
            [2, 'mag'],
            [0, 'grey'],
          ]}
          onChange={(map) => put({ map })}
        />
        {cell.mode === 'channel' && (
          <span class="wall-chan">
            <button type="button" aria-label="previous channel" disabled={channel <= 0} onClick={() => put({ channel: channel - 1 })}>
              ‹
            </button>
            <span class="num" data-channel={channel}>
              {channel}
            </span>
            <button type="button" aria-label="next channel" disabled={channel >= channels - 1} onClick={() => put({ channel: channel + 1 })}>
              ›
            </button>
          </span>
        )}
      </div>
    </div>
  );
}

export function LayerWall() {
  const cells = wall.value.cells;
  const cols = Math.ceil(Math.sqrt(Math.max(1, cells.length)));
  return (
    <section class="pane layer-pane wall" aria-label="layer wall">
      <div class="pane-bar">
        <span class="pane-title">layers</span>
        <span class="pane-dim num">{cells.length}</span>
        <span class="spacer" />
        <button
          type="button"
          id="wall-add"
          disabled={cells.length >= WALL_MAX}
          title="add a view (it starts on the selected layer, pinned)"
          onClick={() => setCells([...cells, { layer: tapLayer.value || null, mode: 'grid', map: 1 }])}
        >
          + view
        </button>
        <WallToggle />
      </div>
      <div class="wall-grid" id="wall" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
        {cells.map((c, i) => (
          <Cell cell={c} index={i} key={i} />
        ))}
      </div>
    </section>
  );
}

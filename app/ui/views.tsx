// The two live pictures of the control page: the output (what the audience sees) and the layer
// view (inside the net). Both draw on the shared animation frame, only the newest packet.
import { useEffect, useRef, useState } from 'preact/hooks';
import { askPreview, connected, debugDrawn, latest, layers, onFrame, param, run, setParam, size, stats, taps } from './connection.ts';
import { asFitMode, OutputView, sceneBlackout, sceneFit } from './output-view.ts';
import { outputWindow, watchShapes } from './output-link.ts';
import { TapView } from './tap-view.ts';
import { tapChannel, tapLayer, tapMap, tapMode } from './ui-state.ts';
import { Bar, Segmented } from './widgets.tsx';
import { syncTaps } from './tap-set.ts';
import { WallToggle } from './layer-wall.tsx';
import { StatsGraph } from './stats-graph.tsx';
import { LayerBends } from './bend-panel.tsx';
import { flatLayers, layerOptionText, shapeText } from './layer-names.ts';
import { BLACKOUT, OUTPUT_FADE, OUTPUT_FIT, PLAY, RECORD } from '../core/addresses.ts';

export { BLACKOUT, PLAY, RECORD };

export { flatLayers, shapeText } from './layer-names.ts';

export function selectLayer(layer: string): void {
  tapLayer.value = layer;
  tapChannel.value = 0;
  syncTaps();
}

export function OutputPane() {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    // The preview shows what every output window shows: the scene's fit mode and blackout fade,
    // framed as the output window of this browser when there is one.
    const unwatch = watchShapes();
    const frame = () => {
      const w = outputWindow.peek();
      return w ? w.width / w.height : undefined;
    };
    const view = new OutputView(ref.current!, { mode: sceneFit, ...sceneBlackout, frame });
    const off = onFrame((now) => {
      view.frame(now, latest.output);
      debugDrawn.output = view.shownIndex;
      debugDrawn.pictures = view.pictures;
      debugDrawn.side = view.drawnSide;
      // The preview needs pictures only as large as it draws them; /output windows get them whole.
      askPreview(view.drawnSide);
      debugDrawn.blackout = view.blackout;
      debugDrawn.fit = view.mode ?? '';
      debugDrawn.box = view.box;
    });
    return () => (off(), unwatch(), view.destroy(), askPreview(0));
  }, []);
  const s = stats.value;
  const black = Number(param(BLACKOUT).value?.value ?? 0) > 0.001;
  const paused = param(PLAY).value?.value === false;
  const rec = !!s?.recording;
  const [w, h] = size.value;
  const win = outputWindow.value;
  return (
    <section class="pane output-pane" aria-label="output">
      <div class="pane-bar">
        <span class="pane-title">output</span>
        <span class="pane-dim num">{w && h ? `${w}×${h}` : '–'}</span>
        {win && (
          <span class="pane-dim num dim" id="output-window-shape" title="the preview is framed as the output window open in this browser">
            in {win.width}×{win.height}
          </span>
        )}
        <span class="spacer" />
        <OutputWindowButton />
      </div>
      <div class="pane-caption">
        <span class="num">frame {s?.frame ?? '–'}</span>
        <span class="spacer" />
        <StatsGraph />
        <span class={`state ${!connected.value ? 'warn' : paused ? 'paused' : 'live'}`}>{!connected.value ? 'offline' : paused ? 'paused' : 'live'}</span>
      </div>
      <div class="stage">
        <canvas ref={ref} id="output" />
        <div class="badges">
          {!connected.value && <span class="badge warn">reconnecting…</span>}
          {black && <span class="badge black">blackout</span>}
          {rec && <span class="badge rec">● rec</span>}
        </div>
      </div>
      <div class="pane-foot">
        <Segmented
          id="output-fit"
          label="how every output window shows the picture"
          value={asFitMode(param(OUTPUT_FIT).value?.value) ?? 'fit'}
          options={[
            ['fit', 'fit', 'every output window: the whole picture, black bars around (F cycles)'],
            ['fill', 'fill', 'every output window: covered, the edges cropped (F cycles)'],
            ['stretch', 'stretch', 'every output window: covered, the aspect ignored (F cycles)'],
          ]}
          onChange={(v) => setParam(OUTPUT_FIT, v)}
        />
        <span class="foot-hint">F</span>
        <span class="spacer" />
        <div class="fade-time" title="seconds the blackout takes to fade out and back in">
          <Bar address={OUTPUT_FADE} label="fade" />
        </div>
      </div>
    </section>
  );
}

interface ElectronApi {
  displays(): Promise<Array<{ index: number; label: string; primary: boolean; width: number; height: number }>>;
  openOutput(displayIndex: number): Promise<void>;
  closeOutput(): Promise<void>;
}
/** The Electron preload's API (app/electron/preload.cjs); absent in a browser. */
const electron = (globalThis as { netbendShell?: ElectronApi }).netbendShell;

/** In Electron: pick a display for the output window. In a browser: open /output in a window. */
function OutputWindowButton() {
  const [displays, setDisplays] = useState<Awaited<ReturnType<ElectronApi['displays']>>>([]);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    electron?.displays().then(setDisplays, () => {});
  }, []);
  if (!electron) {
    const href = `/output${location.search}`;
    return (
      <a class="btn ghost" href={href} target="netbend-output" rel="noopener" title="open the clean output in its own window (drag it to the projector, double-click for full screen)">
        output window ↗
      </a>
    );
  }
  return (
    <span class="display-pick">
      <select aria-label="display for the output window" id="display-select" onFocus={() => electron.displays().then(setDisplays, () => {})}>
        {displays.map((d) => (
          <option value={d.index}>
            {d.index + 1}: {d.label} {d.width}×{d.height}
            {d.primary ? ' (main)' : ''}
          </option>
        ))}
      </select>
      <button
        type="button"
        class={open ? 'on' : ''}
        onClick={() => {
          const sel = document.getElementById('display-select') as HTMLSelectElement | null;
          const p = open ? electron.closeOutput() : electron.openOutput(Number(sel?.value ?? 0));
          p.then(
            () => setOpen(!open),
            () => {},
          );
        }}
      >
        {open ? 'close output' : 'open output'}
      </button>
    </span>
  );
}

export function LayerPane() {
  const ref = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<TapView | null>(null);
  const [hover, setHover] = useState(-1);
  /** The layer whose tap is on screen now (for the "waiting" hint). */
  const [onScreen, setOnScreen] = useState('');
  const [range, setRange] = useState('');
  useEffect(() => {
    const view = (viewRef.current = new TapView(ref.current!));
    const off = onFrame(() => {
      const layer = tapLayer.value;
      const drew = view.frame({ layer, pic: layer ? latest.taps.get(layer) : undefined, mode: tapMode.value, map: tapMap.value, channel: tapChannel.value });
      if (drew) {
        debugDrawn.tap = layer;
        debugDrawn.tapSize = [...view.tapShape];
        debugDrawn.view = [...view.drawnSize];
        setOnScreen(view.tapShape[0] > 0 ? layer : '');
        setRange(view.rangeText);
      }
    });
    return () => (off(), view.destroy(), (viewRef.current = null));
  }, []);
  const all = flatLayers(layers.value).filter((l) => l.tappable);
  const layer = tapLayer.value;
  const info = taps.value.find((t) => t.layer === layer);
  const mode = tapMode.value;
  const shape = info ? shapeText(info.shape) : shapeText(all.find((l) => l.path === layer)?.shape);
  const channels = info?.shape.length ? Number(info.shape.length >= 3 ? info.shape[info.shape.length - 3] : info.shape[info.shape.length - 1]) : 0;
  const ch = Math.min(tapChannel.value, Math.max(0, channels - 1));
  const step = (d: number) => (tapChannel.value = Math.max(0, Math.min(channels - 1, ch + d)));
  return (
    <section class="pane layer-pane" aria-label="layer view">
      <div class="pane-bar" id="tap-bar">
        <span class="pane-title">layer</span>
        <WallToggle />
        <select id="layer-select" aria-label="layer to view" value={layer} onChange={(e) => selectLayer((e.target as HTMLSelectElement).value)}>
          <option value="">— none (L to pick) —</option>
          {all.map((l) => (
            <option value={l.path}>{layerOptionText(l)}</option>
          ))}
        </select>
      </div>
      <div class="pane-caption" id="tap-label">
        {layer ? (
          <>
            <span class="mono cap-path">{layer}</span>
            <span class="num cap-shape">{shape || '…'}</span>
            <span class="spacer" />
            <span class="num dim cap-range">{mode === 'grid' && hover >= 0 ? `channel ${hover} · click to open` : range}</span>
          </>
        ) : (
          <span class="dim">no layer</span>
        )}
      </div>
      <div class="stage">
        <canvas
          ref={ref}
          id="tap"
          class={mode === 'grid' && layer ? 'pick' : ''}
          onPointerMove={(e) => setHover(viewRef.current?.channelAt(e.clientX, e.clientY) ?? -1)}
          onPointerLeave={() => setHover(-1)}
          onClick={(e) => {
            const k = viewRef.current?.channelAt(e.clientX, e.clientY) ?? -1;
            if (k >= 0) (tapChannel.value = k), (tapMode.value = 'channel');
          }}
        />
        {mode === 'channel' && layer && (
          <div class="chan" id="tap-channel">
            <button type="button" disabled={ch <= 0} onClick={() => step(-1)} aria-label="previous channel" title="previous channel">
              ‹
            </button>
            <span class="num chan-n">
              ch {ch}
              <span class="dim"> / {channels || '–'}</span>
            </span>
            <button type="button" disabled={ch >= channels - 1} onClick={() => step(1)} aria-label="next channel" title="next channel">
              ›
            </button>
          </div>
        )}
        {!layer && (
          <div class="empty">
            <div class="empty-title">look inside the net</div>
            <div>pick a layer above (L), or click a layer name in the model panel</div>
          </div>
        )}
        {layer && onScreen !== layer && <div class="empty">waiting for the first frame of this layer…</div>}
      </div>
      <LayerBends layer={layer} shape={all.find((l) => l.path === layer)?.shape} />
      <div class="pane-foot">
        <Segmented
          id="tap-mode"
          label="layer view mode"
          value={mode}
          options={[
            ['grid', 'grid', 'every channel, one colour scale for the whole layer (click a cell to open it)'],
            ['channel', 'channel', 'one channel, its own colour scale'],
            ['pca', 'PCA', 'the first three principal components of the channels as red, green, blue'],
          ]}
          onChange={(v) => (tapMode.value = v)}
        />
        <Segmented
          id="tap-map"
          label="colormap"
          value={tapMap.value}
          disabled={mode === 'pca'}
          options={[
            [1, 'viridis'],
            [2, 'magma'],
            [0, 'grey'],
          ]}
          onChange={(v) => (tapMap.value = v)}
        />
      </div>
    </section>
  );
}

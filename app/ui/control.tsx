// The control page: output and layer views, model (partner, layer tree with blend and edits),
// sources, presets, transport, stats and every parameter with its OSC address and MIDI learn.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { connect, connected, edits, latest, layers, model, notices, params, partner, presets, send, setParam, size, stats, taps } from './connection.ts';
import { outputView, tapView } from './views.ts';
import { channelImage, gridImage, pcaImage } from './tap-math.ts';
import { Param } from './widgets.tsx';
import type { LayerInfo } from '../server/protocol.ts';

const fill = signal(false);
const help = signal(false);
const tapLayer = signal<string>('');
const tapMode = signal<'grid' | 'channel' | 'pca'>('grid');
const tapMap = signal<0 | 1 | 2>(1);
const tapChannel = signal(0);
const BLACKOUT = '/netbend/output/blackout';
const PLAY = '/netbend/transport/play';
const RECORD = '/netbend/record/on';

function flat(ls: LayerInfo[], depth = 0): Array<LayerInfo & { depth: number }> {
  return ls.flatMap((l) => [{ ...l, depth }, ...flat(l.children, depth + 1)]);
}

function Views() {
  const out = useRef<HTMLCanvasElement>(null);
  const tap = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const o = outputView(out.current!, () => ({ fill: fill.value, blackout: Number(params.value[BLACKOUT]?.value ?? 0) }));
    const t = tapView(tap.current!);
    let seen = -1;
    let raf = 0;
    let lastOut: unknown;
    let lastTap: unknown;
    const loop = () => {
      raf = requestAnimationFrame(loop);
      if (latest.version === seen) return;
      seen = latest.version;
      if (latest.output && latest.output !== lastOut) o.show((lastOut = latest.output) as never);
      const p = latest.tap;
      if (p && p !== lastTap && tapLayer.value) {
        lastTap = p;
        const f = p.data as Float32Array;
        const img = tapMode.value === 'pca' ? pcaImage(f, p.channels, p.height, p.width) : tapMode.value === 'channel' ? channelImage(f, p.channels, p.height, p.width, tapChannel.value) : gridImage(f, p.channels, p.height, p.width);
        t.show(img, tapMap.value);
      }
    };
    loop();
    const again = () => ((seen = -1), (lastOut = undefined), (lastTap = undefined));
    const offs = [fill.subscribe(again), tapMode.subscribe(again), tapMap.subscribe(again), tapChannel.subscribe(again)];
    return () => (cancelAnimationFrame(raf), offs.forEach((f) => f()), o.destroy(), t.destroy());
  }, []);
  const tapInfo = taps.value.find((t) => t.layer === tapLayer.value);
  const shape = tapInfo?.shape.slice(-3) ?? [];
  return (
    <section class="views">
      <div class="output-wrap">
        <canvas ref={out} id="output" />
        <div class="overlay">
          {size.value[0]}×{size.value[1]} · <button onClick={() => (fill.value = !fill.value)}>{fill.value ? 'fill' : 'fit'}</button>
        </div>
      </div>
      <div class="tap-wrap">
        <div class="tap-bar">
          <select id="layer-select" value={tapLayer.value} onChange={(e) => selectLayer((e.target as HTMLSelectElement).value)}>
            <option value="">layer view: off</option>
            {flat(layers.value).filter((l) => l.tappable).map((l) => (
              <option value={l.path}>{'\u2007'.repeat(l.depth) + l.path.replace(/^G\./, '')}</option>
            ))}
          </select>
          <select value={tapMode.value} onChange={(e) => (tapMode.value = (e.target as HTMLSelectElement).value as never)}>
            <option value="grid">channel grid</option>
            <option value="channel">one channel</option>
            <option value="pca">PCA → RGB</option>
          </select>
          <select value={String(tapMap.value)} onChange={(e) => (tapMap.value = Number((e.target as HTMLSelectElement).value) as never)}>
            <option value="1">viridis</option>
            <option value="2">magma</option>
            <option value="0">grey</option>
          </select>
          {tapMode.value === 'channel' && <input type="number" min={0} max={(shape[0] ?? 1) - 1} value={tapChannel.value} onInput={(e) => (tapChannel.value = Number((e.target as HTMLInputElement).value))} />}
        </div>
        <canvas ref={tap} id="tap" />
        <div id="tap-label" class="overlay">{tapLayer.value ? `${tapLayer.value} ${shape.length ? shape.join('×') : '…'}` : 'pick a layer to look inside the net'}</div>
      </div>
    </section>
  );
}

function selectLayer(layer: string) {
  tapLayer.value = layer;
  latest.tap = undefined;
  send({ cmd: 'setTaps', layers: layer ? [layer] : [] }).catch(() => {});
}

/** Present only inside the Electron shell (its preload); the browser has window.open instead. */
const shell = (globalThis as { netbendShell?: { displays(): Promise<Array<{ index: number; label: string; width: number; height: number }>>; openOutput(i: number): Promise<void> } }).netbendShell;

function OutputWindow() {
  const [displays, setDisplays] = useState<Array<{ index: number; label: string; width: number; height: number }>>([]);
  const [pick, setPick] = useState(0);
  useEffect(() => void shell?.displays().then(setDisplays), []);
  if (!shell) return <button onClick={() => window.open(`/output${location.search}`, 'netbend-output', 'popup')}>output window</button>;
  return (
    <>
      <select value={String(pick)} onChange={(e) => setPick(Number((e.target as HTMLSelectElement).value))}>
        {displays.map((d) => <option value={String(d.index)}>{`${d.label} ${d.width}×${d.height}`}</option>)}
      </select>
      <button onClick={() => shell.openOutput(pick)}>output full screen</button>
    </>
  );
}

function Transport() {
  const s = stats.value;
  const playing = params.value[PLAY]?.value !== false;
  const rec = params.value[RECORD]?.value === true;
  const black = Number(params.value[BLACKOUT]?.value ?? 0) > 0.5;
  return (
    <header>
      <span class="brand">netbend</span>
      <span class={`dot ${connected.value ? 'on' : ''}`} title={connected.value ? 'connected' : 'disconnected'} />
      <span class="model" title={model.value}>{model.value.split('/').pop()}</span>
      <button id="play" onClick={() => setParam(PLAY, !playing)}>{playing ? '❚❚ pause' : '▶ play'}</button>
      <button id="record" class={rec ? 'rec on' : 'rec'} onClick={() => setParam(RECORD, !rec)}>● rec</button>
      <button id="blackout" class={black ? 'on' : ''} onClick={() => setParam(BLACKOUT, black ? 0 : 1)}>blackout</button>
      <OutputWindow />
      <span class="stats" id="stats">
        <b>{(s?.fps ?? 0).toFixed(1)}</b> fps · <b>{(s?.inferMs ?? 0).toFixed(1)}</b> ms · <b>{s?.dropped ?? 0}</b> dropped · {s?.ep ?? '…'} · #{s?.frame ?? 0}
        {s?.recording && <span class="rec-info"> · rec {s.recording.frames}</span>}
      </span>
      <button class="help" onClick={() => (help.value = !help.value)}>?</button>
    </header>
  );
}

function ModelPanel() {
  const [path, setPath] = useState('');
  const [op, setOp] = useState('scale');
  const [amount, setAmount] = useState('0.5');
  const [target, setTarget] = useState('');
  const all = flat(layers.value).filter((l) => l.weights > 0);
  return (
    <section class="panel">
      <h2>model</h2>
      <div class="row">
        <input id="partner-path" placeholder="blend partner .onnx path" value={path} onInput={(e) => setPath((e.target as HTMLInputElement).value)} />
        <button id="load-partner" onClick={() => send({ cmd: 'loadPartner', path: path || null }).catch(() => {})}>{path ? 'load' : 'unload'}</button>
      </div>
      {partner.value && <div class="hint">partner: {partner.value.split('/').pop()}</div>}
      {partner.value && <Param address="/netbend/blend/all" label="blend all" />}
      <div class="tree">
        {all.map((l) => (
          <div class="layer" style={{ paddingLeft: `${l.depth * 10}px` }}>
            <span class="lname" onClick={() => setTarget(l.path)} title="pick as edit target">{l.path.split('.').pop()}</span>
            {partner.value && <Param address={`/netbend/blend/${l.path}`} label="blend" showAddress={false} />}
          </div>
        ))}
      </div>
      <div class="row">
        <input placeholder="layer, weight or glob" value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} />
        <select value={op} onChange={(e) => setOp((e.target as HTMLSelectElement).value)}>
          {['scale', 'offset', 'set', 'noise', 'ablate'].map((o) => <option value={o}>{o}</option>)}
        </select>
        <input class="num" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
        <button onClick={() => send({ cmd: 'addEdit', target, op: op as never, amount: Number(amount) }).catch(() => {})}>add edit</button>
      </div>
      {edits.value.map((e) => (
        <div class="edit">
          <Param address={e.address} label={`${e.op} ${e.target}`} />
          <button onClick={() => send({ cmd: 'removeEdit', id: e.id }).catch(() => {})}>✕</button>
        </div>
      ))}
      {edits.value.length > 0 && <button onClick={() => send({ cmd: 'restore' }).catch(() => {})}>restore originals</button>}
    </section>
  );
}

function PresetPanel() {
  const [name, setName] = useState('');
  const [morph, setMorph] = useState('0');
  return (
    <section class="panel">
      <h2>presets</h2>
      <div class="row">
        <input id="preset-name" placeholder="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button id="save-preset" onClick={() => send({ cmd: 'savePreset', name }).catch(() => {})}>save</button>
        <span class="hint">morph s</span>
        <input class="num" id="morph-seconds" value={morph} onInput={(e) => setMorph((e.target as HTMLInputElement).value)} />
      </div>
      <div class="presets">
        {presets.value.map((p, i) => (
          <button class="preset" data-name={p} onClick={() => send({ cmd: 'loadPreset', name: p, morphSeconds: Number(morph) || 0 }).catch(() => {})}>
            <span class="key">{i < 9 ? i + 1 : ''}</span> {p}
          </button>
        ))}
      </div>
    </section>
  );
}

function Group({ title, prefix }: { title: string; prefix: string }) {
  const list = Object.keys(params.value).filter((a) => a.startsWith(prefix));
  if (!list.length) return null;
  return (
    <section class="panel">
      <h2>{title}</h2>
      {list.map((a) => <Param address={a} />)}
    </section>
  );
}

function Notices() {
  return (
    <div class="notices">
      {notices.value.filter((n) => Date.now() - n.at < 8000).map((n) => <div class={`notice ${n.level}`}>{n.text}</div>)}
    </div>
  );
}

function Help() {
  if (!help.value) return null;
  const keys = [['space', 'play / pause'], ['B', 'blackout'], ['F', 'fit / fill'], ['R', 'record'], ['L', 'layer view'], ['1–9', 'recall preset'], ['?', 'this help']];
  return (
    <div class="help-overlay" onClick={() => (help.value = false)}>
      <table>{keys.map(([k, v]) => <tr><td class="key">{k}</td><td>{v}</td></tr>)}</table>
    </div>
  );
}

function App() {
  return (
    <>
      <Transport />
      <main>
        <Views />
        <aside>
          <ModelPanel />
          <Group title="sources" prefix="/netbend/source/" />
          <PresetPanel />
          <Group title="transport & output" prefix="/netbend/transport/" />
          <Group title="knobs" prefix="/netbend/knobs/" />
          <Group title="tempo" prefix="/netbend/tempo/" />
          <Group title="output" prefix="/netbend/output/" />
        </aside>
      </main>
      <Notices />
      <Help />
    </>
  );
}

window.addEventListener('keydown', (e) => {
  if ((e.target as HTMLElement).matches('input, select, textarea')) return;
  const k = e.key.toLowerCase();
  if (k === ' ') (e.preventDefault(), setParam(PLAY, params.value[PLAY]?.value === false));
  else if (k === 'b') setParam(BLACKOUT, Number(params.value[BLACKOUT]?.value ?? 0) > 0.5 ? 0 : 1);
  else if (k === 'f') fill.value = !fill.value;
  else if (k === 'r') setParam(RECORD, params.value[RECORD]?.value !== true);
  else if (k === 'l') document.getElementById('layer-select')?.focus();
  else if (k === '?') help.value = !help.value;
  else if (/^[1-9]$/.test(k)) {
    const p = presets.value[Number(k) - 1];
    if (p) send({ cmd: 'loadPreset', name: p }).catch(() => {});
  }
});

connect();
render(<App />, document.getElementById('app')!);

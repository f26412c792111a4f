// The control page: transport and stats on top; the output and the layer view side by side with the
// preset pads under them; model, sources and every parameter in the side panel.
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { connect, connected, currentValue, model, notices, param, presets, ready, run, setParam, stats, taps } from './connection.ts';
import { BLACKOUT, LayerPane, OutputPane, PLAY, RECORD } from './views.tsx';
import { ModelPanel } from './model-panel.tsx';
import { ModulatorsPanel } from './modulation.tsx';
import { acceptDroppedModels } from './model-browser.tsx';
import { LayerWall } from './layer-wall.tsx';
import { ParamsPanel, SourcesPanel } from './params-panel.tsx';
import { SeedGridPanel } from './seed-grid.tsx';
import { LatentPanel } from './latent-panel.tsx';
import { LearnBanner, MidiDot, MidiPanel } from './midi-panel.tsx';
import { LearnPanel } from './learn-panel.tsx';
import { AudioPanel } from './audio-panel.tsx';
import { startTrackSound } from './track-sound.ts';
import { loadPreset, PresetStrip } from './presets.tsx';
import { help, tab, tapLayer, wall, type Tab } from './ui-state.ts';
import { nextFitMode, sceneFit } from './output-view.ts';
import { Bar } from './widgets.tsx';
import { FPS, LOCK, OUTPUT_FIT } from '../core/addresses.ts';

/** Milliseconds in at most 5 characters: 9.8, 86.4, 820, 1234. */
const ms = (v: number) => (v < 100 ? v.toFixed(1) : v.toFixed(0));
/** Event-loop delay (p99) past which OSC, MIDI and pages are served noticeably late. */
const LOOP_DELAY_WARN_MS = 20;

function Stat({ id, value, unit, warn }: { id: string; value: string; unit: string; warn?: boolean }) {
  return (
    <span class={`stat ${warn ? 'warn' : ''}`} id={id}>
      <b class="num">{value}</b>
      <i>{unit}</i>
    </span>
  );
}

function Header() {
  const s = stats.value;
  const playing = param(PLAY).value?.value !== false;
  const rec = param(RECORD).value?.value === true;
  const black = Number(param(BLACKOUT).value?.value ?? 0) > 0.5;
  const locked = param(LOCK).value?.value === true;
  const target = s?.targetFps ?? Number(param(FPS).value?.value ?? 30);
  const slow = !!s && s.playing && s.fps < target * 0.8;
  const recSeconds = s?.recording ? s.recording.frames / Math.max(1, s.targetFps) : 0;
  const clock = `${String(Math.floor(recSeconds / 60)).padStart(2, '0')}:${String(Math.floor(recSeconds % 60)).padStart(2, '0')}`;
  return (
    <header class="top">
      <span class="brand">
        net<b>bend</b>
      </span>
      <span class={`conn ${connected.value ? 'on' : ''}`} title={connected.value ? 'connected to the engine' : 'not connected: retrying'} />
      <span class="top-model" title={model.value}>
        {model.value.split(/[\\/]/).pop()}
      </span>
      <span class="sep" />
      <button type="button" id="play" class={`transport ${playing ? 'on' : ''}`} aria-pressed={playing} title="play / pause (space)" onClick={() => setParam(PLAY, !playing)}>
        <span class="glyph">{playing ? '❚❚' : '▶'}</span>
        {playing ? 'playing' : 'paused'}
      </button>
      <div class="fps-target" title="target frame rate">
        <Bar address={FPS} label="target" />
      </div>
      <button type="button" id="record" class={`transport rec ${rec ? 'on' : ''}`} aria-pressed={rec} title="record the output to video (R)" onClick={() => setParam(RECORD, !rec)}>
        <span class="glyph">●</span>
        <span class="num">{rec ? clock : 'rec'}</span>
      </button>
      <button type="button" id="blackout" class={`transport black ${black ? 'on' : ''}`} aria-pressed={black} title="fade the output to black (B)" onClick={() => setParam(BLACKOUT, black ? 0 : 1)}>
        blackout
      </button>
      <button
        type="button"
        id="lock"
        class={`transport lock ${locked ? 'on' : ''}`}
        aria-pressed={locked}
        title="performance lock: preset keys and model switches ask first; OSC and MIDI cannot switch the model"
        onClick={() => setParam(LOCK, !locked)}
      >
        {locked ? 'locked' : 'lock'}
      </button>
      <button type="button" id="undo" class="transport" title="undo the last move (Ctrl/Cmd+Z)" onClick={() => run({ cmd: 'undo' })}>
        undo
      </button>
      <button type="button" id="redo" class="transport" title="redo (Shift+Ctrl/Cmd+Z)" onClick={() => run({ cmd: 'redo' })}>
        redo
      </button>
      <span class="spacer" />
      <span class="stats" id="stats">
        <Stat id="stat-fps" value={(s?.fps ?? 0).toFixed(1)} unit="fps" warn={slow} />
        <Stat id="stat-infer" value={ms(s?.inferMs ?? 0)} unit="ms" />
        <Stat id="stat-dropped" value={String(s?.droppedPerMinute ?? 0)} unit="drop/min" warn={!!s && s.droppedPerMinute > 60} />
        <Stat id="stat-loop" value={`${ms(s?.loopDelay.p99 ?? 0)}/${ms(s?.loopDelay.max ?? 0)}`} unit="ms loop" warn={!!s && s.loopDelay.p99 > LOOP_DELAY_WARN_MS} />
        <Stat id="stat-ep" value={s?.ep ?? '–'} unit="EP" />
        <Stat id="stat-frame" value={String(s?.frame ?? 0)} unit="frame" />
      </span>
      <button type="button" class="help-btn" title="keyboard shortcuts (?)" onClick={() => (help.value = !help.value)}>
        ?
      </button>
    </header>
  );
}

const TABS: Array<[Tab, string]> = [
  ['model', 'model'],
  ['sources', 'sources'],
  ['mods', 'mods'],
  ['params', 'params'],
  ['midi', 'midi'],
  ['learn', 'learn'],
  ['audio', 'audio'],
];

function Side() {
  return (
    <aside class="side">
      <div class="tabs" role="tablist">
        {TABS.map(([t, label]) => (
          <button type="button" role="tab" id={`tab-${t}`} aria-selected={tab.value === t} class={tab.value === t ? 'on' : ''} onClick={() => (tab.value = t)}>
            {label}
            {t === 'midi' && <MidiDot />}
          </button>
        ))}
      </div>
      <div class="side-scroll" role="tabpanel">
        {!ready.value ? (
          <div class="hint pad">connecting to the engine…</div>
        ) : tab.value === 'model' ? (
          <ModelPanel />
        ) : tab.value === 'sources' ? (
          <>
            <SourcesPanel />
            <LatentPanel />
            <SeedGridPanel />
          </>
        ) : tab.value === 'mods' ? (
          <ModulatorsPanel />
        ) : tab.value === 'midi' ? (
          <MidiPanel />
        ) : tab.value === 'learn' ? (
          <LearnPanel />
        ) : tab.value === 'audio' ? (
          <AudioPanel />
        ) : (
          <ParamsPanel />
        )}
      </div>
    </aside>
  );
}

/** Said in place, above the pictures, for as long as it holds: never over a control. */
function SlowBanner() {
  const slow = stats.value?.slow;
  if (!slow) return null;
  return (
    <div class="slow-banner" id="slow" role="status">
      <b>{slow.text}.</b> What would help: {slow.remedies.join('; ')}.
    </div>
  );
}

function Notices() {
  return (
    <div class="notices" aria-live="polite">
      {notices.value.map((n) => {
        // A long message says its first line; the rest (a list of mismatched weights) on demand.
        const [head, ...rest] = n.text.split('\n');
        return (
          <div class={`notice ${n.level}`} key={n.id}>
            {rest.length ? (
              <details>
                <summary>{head}</summary>
                <pre>{rest.join('\n')}</pre>
              </details>
            ) : (
              n.text
            )}
          </div>
        );
      })}
    </div>
  );
}

const KEYS: Array<[string, string]> = [
  ['space', 'play / pause'],
  ['B', 'blackout: fade to black and back (its fade time is beside fit / fill / stretch)'],
  ['F', 'output: fit / fill / stretch (every output window)'],
  ['R', 'record on / off'],
  ['L', 'pick a layer for the layer view'],
  ['1 – 9', 'load preset 1–9 (with morph, if set); asks first when locked'],
  ['Ctrl/Cmd+Z', 'undo the last move (values, edits, modulators, loads) · Shift+Ctrl/Cmd+Z redo'],
  ['lock', 'performance lock: preset keys and model switches ask first'],
  ['?', 'this help · Esc closes'],
];
/** On the clean output page (/output, the Electron output window). */
const OUTPUT_KEYS: Array<[string, string]> = [
  ['F', "fit / fill / stretch for this window only; on the scene's mode it follows the scene again"],
  ['B', 'blackout (every window)'],
  ['double-click', 'full screen · Esc leaves it'],
];
const MOUSE: Array<[string, string]> = [
  ['drag', 'move a value (never jumps)'],
  ['shift-drag', 'fine'],
  ['double-click', 'type a value'],
  ['⌫', 'slider back to its default'],
  ['address', 'click to copy the OSC address'],
  ['MIDI', 'learn: click, then move a control (Esc cancels)'],
  ['~', 'modulate: an LFO (Hz or beats) or an expression; the slider then moves its base'],
  ['mods tab', 'every modulator: mute, edit, remove'],
];

function KeyTable({ rows }: { rows: ReadonlyArray<readonly [string, string]> }) {
  return (
    <table>
      {rows.map(([k, v]) => (
        <tr>
          <td>
            <kbd>{k}</kbd>
          </td>
          <td>{v}</td>
        </tr>
      ))}
    </table>
  );
}

function Help() {
  if (!help.value) return null;
  return (
    <div class="help-overlay" id="help" role="dialog" aria-label="keyboard shortcuts" onClick={() => (help.value = false)} onKeyDown={(e) => e.key === 'Escape' && (help.value = false)}>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: this click only keeps the backdrop's close from firing; keys close the dialog from anywhere */}
      <div class="help-card" onClick={(e) => e.stopPropagation()}>
        <h2>keys</h2>
        <KeyTable rows={KEYS} />
        <h2>output window</h2>
        <KeyTable rows={OUTPUT_KEYS} />
        <h2>controls</h2>
        <KeyTable rows={MOUSE} />
      </div>
    </div>
  );
}

function App() {
  useEffect(() => {
    // The engine's taps are the truth: a reloaded page shows the layer the engine is tapping.
    return taps.subscribe((t) => {
      if (t.length && !t.some((x) => x.layer === tapLayer.peek())) tapLayer.value = t[0]!.layer;
      if (!t.length && tapLayer.peek()) tapLayer.value = '';
    });
  }, []);
  return (
    <div class="app">
      <Header />
      <main class="main">
        <div class="views">
          <SlowBanner />
          <div class="panes">
            <OutputPane />
            {wall.value.on ? <LayerWall /> : <LayerPane />}
          </div>
          <PresetStrip />
          <LearnBanner />
          <Notices />
        </div>
        <Side />
      </main>
      <Help />
    </div>
  );
}

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el?.closest?.('input, select, textarea, [contenteditable]');
}

window.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && help.value) return void (help.value = false);
  if (typing(e.target)) return;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  // Undo and redo of the whole scene (inputs keep their own text undo: typing() returned above).
  if ((e.ctrlKey || e.metaKey) && !e.altKey && (k === 'z' || k === 'y')) {
    e.preventDefault();
    return run({ cmd: e.shiftKey || k === 'y' ? 'redo' : 'undo' });
  }
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  // A focused button would also "click" on space: the shortcut wins, the click is dropped.
  if (k === ' ') {
    e.preventDefault();
    setParam(PLAY, currentValue(PLAY) === false);
  } else if (k === 'b') setParam(BLACKOUT, Number(currentValue(BLACKOUT) ?? 0) > 0.5 ? 0 : 1);
  else if (k === 'f') setParam(OUTPUT_FIT, nextFitMode(sceneFit()));
  else if (k === 'r') setParam(RECORD, currentValue(RECORD) !== true);
  else if (k === 'l') {
    e.preventDefault();
    const sel = document.getElementById('layer-select') as HTMLSelectElement | null;
    sel?.focus();
    try {
      sel?.showPicker?.();
    } catch {
      // Not allowed here (no user activation): focused is enough, arrows pick.
    }
  } else if (k === '?') help.value = !help.value;
  else if (/^[1-9]$/.test(k)) {
    const p = presets.value[Number(k) - 1];
    if (p) loadPreset(p);
  } else return;
});
// Space on a focused button must not also click it.
window.addEventListener('keyup', (e) => e.key === ' ' && !typing(e.target) && e.preventDefault());

connect();
acceptDroppedModels();
startTrackSound();
render(<App />, document.getElementById('app')!);

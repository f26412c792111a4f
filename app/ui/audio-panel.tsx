// The audio tab: the input picker and start/stop of this page's capture, a meter per feature (the
// onset a flash, chroma twelve small bars, the beat a blinking dot with the bpm), the latency, the
// shaping of each feature, and "map": from a meter to any parameter as an expression modulator
// (`<center> + <depth> * audio.<feature>`), a scene move like any other (undoable, in presets).
import { useEffect, useState } from 'preact/hooks';
import { param, paramList, run } from './connection.ts';
import { audioInputs, captureState, listInputs, startCapture, stopCapture } from './audio-capture.ts';
import { ParamRow } from './widgets.tsx';
import { trackSoundOn, trackSoundState } from './track-sound.ts';

const A = '/netbend/audio/';
const METERS = ['rms', 'peak', 'low', 'mid', 'high', 'flux', 'centroid', 'onset'] as const;
const SHAPED = ['rms', 'peak', 'low', 'mid', 'high', 'flux', 'onset', 'centroid', 'beat', 'chroma'] as const;
const value = (feature: string) => Number(param(`${A}${feature}`).value?.value ?? 0);

/** Writable numbers a feature may drive: not the audio section's own values. */
const targets = () =>
  paramList.value.filter((a) => {
    const p = param(a).peek();
    return !!p && (p.type === 'float' || p.type === 'int') && !p.readOnly && !a.startsWith(A);
  });

function MapTo({ feature, onDone }: { feature: string; onDone: () => void }) {
  const list = targets();
  const [target, setTarget] = useState(list[0] ?? '');
  const [depth, setDepth] = useState('0.5');
  const spec = param(target).value;
  const center = typeof spec?.value === 'number' ? Number(spec.value.toFixed(4)) : 0;
  const add = () => {
    const d = Number(depth);
    if (!target || !Number.isFinite(d)) return;
    run({ cmd: 'addModulator', target, kind: 'expr', source: `${center} + ${d} * audio.${feature.replace('/', '.')}` });
    onDone();
  };
  return (
    <div class="audio-map" data-feature={feature}>
      <select class="audio-map-target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
        {list.map((a) => (
          <option value={a}>{a}</option>
        ))}
      </select>
      <label>
        depth <input class="audio-map-depth" type="number" step="0.1" value={depth} onInput={(e) => setDepth((e.target as HTMLInputElement).value)} />
      </label>
      <button type="button" class="audio-map-add" onClick={add} title={`${target} = ${center} + ${depth} * audio.${feature}`}>
        add
      </button>
    </div>
  );
}

function Meter({ feature, mapping, setMapping }: { feature: string; mapping: string | null; setMapping: (f: string | null) => void }) {
  const v = value(feature);
  const flash = feature === 'onset';
  return (
    <>
      <div class={`audio-meter ${flash && v > 0.5 ? 'flash' : ''}`} data-feature={feature} data-value={v.toFixed(4)}>
        <span class="audio-name">{feature}</span>
        <span class="audio-track">
          <span class="audio-fill" style={{ width: `${Math.max(0, Math.min(1, v)) * 100}%` }} />
        </span>
        <span class="audio-num num">{v.toFixed(2)}</span>
        <button type="button" class="audio-map-btn" title={`drive a parameter with audio.${feature}`} onClick={() => setMapping(mapping === feature ? null : feature)}>
          map
        </button>
      </div>
      {mapping === feature && <MapTo feature={feature} onDone={() => setMapping(null)} />}
    </>
  );
}

/** The show's track: a picker of the track folders' files, where it is (a seek bar), and whether this page plays it. */
function TrackRow() {
  const [files, setFiles] = useState<string[]>([]);
  const [pick, setPick] = useState('');
  const file = String(param(`${A}track/file`).value?.value ?? '');
  const time = Number(param(`${A}track/time`).value?.value ?? 0);
  const length = Number(param(`${A}track/length`).value?.value ?? 0);
  useEffect(() => {
    void fetch('/api/audio/tracks')
      .then((r) => r.json() as Promise<{ files: string[] }>)
      .then((j) => setFiles(j.files))
      .catch(() => {});
  }, [file]);
  const chosen = pick || file || files[0] || '';
  const base = (f: string) => f.split(/[\\/]/).pop() ?? f;
  const state = trackSoundState.value;
  return (
    <div class="audio-track-row">
      <div class="audio-input">
        <select id="track-file" value={chosen} onChange={(e) => setPick((e.target as HTMLSelectElement).value)} title="sound files in the track folders (serve --tracks <folder>)">
          {!files.length && <option value="">no sound files in the track folders</option>}
          {files.map((f) => (
            <option value={f}>{base(f)}</option>
          ))}
        </select>
        <button type="button" id="track-load" disabled={!chosen} onClick={() => run({ cmd: 'track', load: chosen })}>
          play track
        </button>
        {file && (
          <button type="button" id="track-unload" onClick={() => run({ cmd: 'track', unload: true })}>
            unload
          </button>
        )}
      </div>
      {file && (
        <div class="audio-input">
          <input
            id="track-position"
            type="range"
            min={0}
            max={length}
            step={0.01}
            value={time}
            onChange={(e) => run({ cmd: 'track', position: Number((e.target as HTMLInputElement).value) })}
            title="where the track is (the engine's clock); drag to move it"
          />
          <span id="track-time" class="num">
            {time.toFixed(1)} / {length.toFixed(1)} s
          </span>
          <label title="play the track's sound on this page, in step with the engine">
            <input id="track-sound" type="checkbox" checked={trackSoundOn.value} onChange={(e) => (trackSoundOn.value = (e.target as HTMLInputElement).checked)} /> hear it here
          </label>
          {state === 'blocked' && <span class="hint"> click anywhere to hear it</span>}
        </div>
      )}
    </div>
  );
}

export function AudioPanel() {
  const cap = captureState.value;
  const [device, setDevice] = useState('');
  const [mapping, setMapping] = useState<string | null>(null);
  const [shaping, setShaping] = useState<string>('low');
  useEffect(() => {
    void listInputs().catch(() => {});
    const on = () => void listInputs().catch(() => {});
    navigator.mediaDevices?.addEventListener('devicechange', on);
    return () => navigator.mediaDevices?.removeEventListener('devicechange', on);
  }, []);
  const defined = !!param(`${A}rms`).value;
  const beat = value('beat') > 0.5;
  const bpm = value('bpm');
  const latency = param(`${A}latency`).value?.value;
  return (
    <div class="audio-panel panel-body">
      <h4>track</h4>
      <TrackRow />
      <h4>input</h4>
      <div class="audio-input">
        <select id="audio-device" value={device} onChange={(e) => setDevice((e.target as HTMLSelectElement).value)} disabled={cap.state !== 'off'}>
          <option value="">default input</option>
          {audioInputs.value.map((d) => (
            <option value={d.id}>{d.label}</option>
          ))}
        </select>
        {cap.state === 'on' ? (
          <button type="button" id="audio-stop" class="on" onClick={stopCapture}>
            stop
          </button>
        ) : (
          <button type="button" id="audio-start" disabled={cap.state === 'starting'} onClick={() => void startCapture(device)}>
            capture
          </button>
        )}
        {cap.refused && (
          <button type="button" id="audio-takeover" title="another page is capturing: stop it there and capture here" onClick={() => void startCapture(device, true)}>
            take over
          </button>
        )}
      </div>
      <div class="audio-status hint">
        {cap.state === 'on'
          ? `capturing at ${cap.rate} Hz (${cap.worklet ? 'AudioWorklet' : 'ScriptProcessor'})`
          : defined
            ? 'not capturing here: features from another page, OSC, or held'
            : 'capture an input to see its features here and map them to any parameter (or start serve with --audio-osc to take them over OSC)'}
        {' · latency '}
        <b id="audio-latency" class="num">
          {typeof latency === 'number' ? latency.toFixed(1) : '–'}
        </b>{' '}
        ms
      </div>
      {defined && (
        <>
          <div class="audio-beat">
            <span id="audio-beat" class={`audio-dot ${beat ? 'on' : ''}`} />
            <span id="audio-bpm" class="num">
              {bpm > 0 ? bpm.toFixed(1) : '–'}
            </span>{' '}
            bpm
          </div>
          <div class="audio-meters">
            {METERS.map((f) => (
              <Meter feature={f} mapping={mapping} setMapping={setMapping} />
            ))}
          </div>
          <div class="audio-chroma" title="chroma: C to B">
            {Array.from({ length: 12 }, (_, i) => (
              <span class="audio-chroma-bin" data-bin={i} style={{ height: `${Math.max(0, Math.min(1, value(`chroma/${i}`))) * 100}%` }} />
            ))}
          </div>
          <h4>shaping</h4>
          <select id="audio-shaping" value={shaping} onChange={(e) => setShaping((e.target as HTMLSelectElement).value)}>
            {SHAPED.map((f) => (
              <option value={f}>{f}</option>
            ))}
          </select>
          {(['gain', 'gate', 'attack', 'release'] as const).map((k) => (
            <ParamRow address={`${A}shape/${shaping}/${k}`} label={k} showAddress={false} />
          ))}
          <h4>analysis</h4>
          {['bands/lowmid', 'bands/midhigh', 'detect/threshold', 'detect/gap', 'tempo/follow', 'send'].map((a) => (
            <ParamRow address={`${A}${a}`} showAddress={false} />
          ))}
        </>
      )}
    </div>
  );
}

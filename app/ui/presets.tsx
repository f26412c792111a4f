// Presets as pads: 1-9 recall by position (keys too), click to load (gliding for `morph` seconds
// when set), and save the scene as it is now under a name.
import { useState } from 'preact/hooks';
import { presets, send, sendConfirming } from './connection.ts';
import { activePreset, morphSeconds } from './ui-state.ts';

/** Loads (or morphs to) a preset; when the performance lock holds it back, asks first. */
export function loadPreset(name: string): void {
  const morph = morphSeconds.value;
  activePreset.value = name;
  const cmd = { cmd: 'loadPreset' as const, name, ...(morph > 0 ? { morphSeconds: morph } : {}) };
  sendConfirming(cmd).catch(() => {
    if (activePreset.value === name) activePreset.value = null;
  });
}

export function PresetStrip() {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const save = () => {
    const n = name.trim();
    if (!n) return;
    setBusy(true);
    send({ cmd: 'savePreset', name: n }).then(
      () => (setBusy(false), (activePreset.value = n)),
      () => setBusy(false),
    );
  };
  const list = presets.value;
  return (
    <section class="presets-strip" aria-label="presets">
      <div class="strip-head">
        <span class="pane-title">presets</span>
        <label class="morph" title="glide to a loaded preset's values over this many seconds (0 = cut)">
          morph
          <input
            id="morph-seconds"
            class="num"
            type="number"
            min={0}
            max={600}
            step={0.5}
            value={morphSeconds.value}
            onChange={(e) => {
              const v = Number((e.target as HTMLInputElement).value);
              morphSeconds.value = Number.isFinite(v) ? Math.max(0, Math.min(600, v)) : 0;
            }}
          />
          s
        </label>
      </div>
      <div class="pads" id="preset-pads">
        {list.length === 0 && <span class="hint">no presets yet: name the scene and save it →</span>}
        {list.map((p, i) => (
          <button type="button" class={`preset pad ${activePreset.value === p ? 'on' : ''}`} data-name={p} title={`load ${p}${i < 9 ? ` (key ${i + 1})` : ''}`} onClick={() => loadPreset(p)}>
            <span class="key num">{i < 9 ? i + 1 : ''}</span>
            <span class="pad-name">{p}</span>
          </button>
        ))}
      </div>
      <form
        class="preset-save"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <input id="preset-name" spellcheck={false} placeholder="name this scene" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button id="save-preset" type="submit" class="primary" disabled={busy || !name.trim()}>
          {busy ? 'saving…' : 'save'}
        </button>
      </form>
    </section>
  );
}

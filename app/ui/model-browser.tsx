// The model browser: the model folders' files (thumbnail, size, inputs and outputs) to play or to
// blend with, recent files, and .onnx files dropped anywhere on the page (saved to the user's model
// folder, then played). Partners are offered only where every weight matches; the others say why
// in one line, with the list on demand.
import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { model, notice, send, sendConfirming } from './connection.ts';
import { browserOpen, recentModels } from './ui-state.ts';
import type { ModelEntry } from '../core/protocol.ts';

type TensorInfoLike = ModelEntry['inputs'][number];

/** The folders' models as the server last listed them (refreshed on open, on a new model, on a drop). */
export const library = signal<ModelEntry[] | null>(null);
export const uploading = signal<string | null>(null);

export async function refreshLibrary(): Promise<void> {
  try {
    const r = await fetch('/api/models', { cache: 'no-store' });
    const body = (await r.json()) as { models?: ModelEntry[]; error?: string };
    if (!r.ok || !body.models) throw new Error(body.error ?? `HTTP ${r.status}`);
    library.value = body.models;
  } catch (err) {
    notice('error', `model folders: ${(err as Error).message}`);
  }
}

const remember = (path: string) => (recentModels.value = [path, ...recentModels.value.filter((p) => p !== path)].slice(0, 6));

/** Plays a model (asks first when locked) and keeps it among the recent ones. */
export function playModel(path: string): Promise<unknown> {
  return sendConfirming({ cmd: 'loadModel', file: path }).then((r) => (remember(path), r));
}

const mb = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0)} MB`);
const io = (list: TensorInfoLike[]) => list.map((t) => `${t.name} ${t.shape.join('×')}`).join(', ');
const base = (p: string) => p.split(/[\\/]/).pop() ?? p;

function Entry({ e }: { e: ModelEntry }) {
  const [details, setDetails] = useState(false);
  const playing = e.path === model.value;
  return (
    <div class={`model-entry ${playing ? 'playing' : ''}`} data-model={e.name}>
      <img class="thumb" loading="lazy" alt="" src={e.error || !e.image ? 'data:,' : `/api/models/thumb?file=${encodeURIComponent(e.path)}`} width={48} height={48} />
      <div class="model-meta">
        <div class="model-title" title={e.path}>
          {e.name} <span class="dim">{mb(e.bytes)}</span>
        </div>
        <div class="model-io dim" title={`in: ${io(e.inputs)}\nout: ${io(e.outputs)}`}>
          {e.error ? e.error : `${io(e.inputs)} → ${e.image ? `${e.image.width}×${e.image.height}` : io(e.outputs)}`}
        </div>
        {!e.partner.ok && !e.error && !playing && (
          <div class="model-why dim">
            not a partner: {e.partner.why}{' '}
            <button type="button" class="link" onClick={() => setDetails(!details)}>
              {details ? 'hide' : 'details'}
            </button>
            {details && <pre class="model-details">{e.partner.details?.join('\n')}</pre>}
          </div>
        )}
      </div>
      <div class="model-actions">
        <button type="button" class="primary" data-play disabled={playing || !!e.error} onClick={() => void playModel(e.path)} title="switch to this model (asks first when locked)">
          {playing ? 'playing' : 'play'}
        </button>
        {!playing && e.partner.ok && !e.error && (
          <button type="button" data-blend onClick={() => void send({ cmd: 'loadPartner', path: e.path })} title="blend toward this model">
            blend
          </button>
        )}
      </div>
    </div>
  );
}

export function ModelBrowser() {
  useEffect(() => {
    void refreshLibrary();
  }, [model.value]);
  const list = library.value;
  const recent = recentModels.value.filter((p) => p !== model.value);
  const open = browserOpen.value;
  return (
    <div class="block" id="model-browser">
      <div class="block-title">
        <button type="button" class="link fold" data-open={open} aria-expanded={open} onClick={() => (browserOpen.value = !open)} title="the models in the model folders">
          {open ? '▾' : '▸'} model folders {list ? <span class="count num">{list.length}</span> : null}
        </button>
        <span class="spacer" />
        {open && (
          <button type="button" class="link" onClick={() => void refreshLibrary()} title="list the folders again">
            refresh
          </button>
        )}
      </div>
      {recent.length > 0 && (
        <div class="recent">
          <span class="dim">recent</span>
          {recent.map((p) => (
            <button type="button" class="chip" title={p} onClick={() => void playModel(p)}>
              {base(p)}
            </button>
          ))}
        </div>
      )}
      {uploading.value && <div class="hint">saving {uploading.value}…</div>}
      {open &&
        (list === null ? (
          <div class="hint">looking in the model folders…</div>
        ) : list.length === 0 ? (
          <div class="hint">no .onnx files yet: drop one onto the page</div>
        ) : (
          list.map((e) => <Entry e={e} key={e.path} />)
        ))}
      {open && <div class="hint">drop .onnx files anywhere on the page to add and play them</div>}
    </div>
  );
}

/** Compatible partners only, for the partner picker. */
export const partnerChoices = () => (library.value ?? []).filter((e) => e.partner.ok && !e.error && e.path !== model.value);

/** .onnx files dropped onto the page: saved to the user's model folder, then played. */
export function acceptDroppedModels(): void {
  const dragging = signal(false);
  const has = (e: DragEvent) => [...(e.dataTransfer?.items ?? [])].some((i) => i.kind === 'file');
  window.addEventListener('dragover', (e) => {
    if (!has(e)) return;
    e.preventDefault();
    if (!dragging.value) document.body.classList.add('dropping');
    dragging.value = true;
  });
  window.addEventListener('dragleave', (e) => {
    if (e.relatedTarget) return;
    dragging.value = false;
    document.body.classList.remove('dropping');
  });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    dragging.value = false;
    document.body.classList.remove('dropping');
    const files = [...(e.dataTransfer?.files ?? [])];
    const models = files.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
    if (files.length && !models.length) return notice('warning', `${files.map((f) => f.name).join(', ')}: drop .onnx model files`);
    void (async () => {
      for (const [i, f] of models.entries()) {
        uploading.value = f.name;
        try {
          const r = await fetch(`/api/models/upload?name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f });
          const body = (await r.json()) as { path?: string; error?: string };
          if (!r.ok || !body.path) throw new Error(body.error ?? `HTTP ${r.status}`);
          notice('info', `${f.name} saved to ${body.path}`);
          await refreshLibrary();
          // The last one dropped plays; the others wait in the list.
          if (i === models.length - 1) await playModel(body.path);
        } catch (err) {
          notice('error', `${f.name}: ${(err as Error).message}`);
        } finally {
          uploading.value = null;
        }
      }
    })();
  });
}

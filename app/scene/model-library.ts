// What the model folders hold, for the page's model browser: each .onnx file with its size, its
// inputs and outputs, whether it can be the playing model's blend partner (one line why not, the
// list on demand), and a thumbnail: its first frame, rendered in workers off the frame path, one
// model at a time. Descriptions and thumbnails are kept per file version (path, size, mtime).
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { ModelHost } from '../engine/inference/model-host.ts';
import { partnerMismatches, type ModelInfo } from '../engine/onnx/model-info.ts';
import { findImageOutput } from '../engine/image-output.ts';
import { Engine } from '../engine/engine.ts';
import { ParameterRegistry } from '../core/registry.ts';
import { SerialQueue } from './serial-queue.ts';
import type { ModelFolders } from './model-folders.ts';
import type { ModelEntry } from '../core/protocol.ts';

/** Files listed per folder at most: a folder of thousands is a dataset, not a model shelf. */
const MAX_PER_FOLDER = 200;
const THUMB_SIZE = 96;

export class ModelLibrary {
  private readonly infos = new Map<string, Promise<ModelInfo>>();
  private readonly thumbs = new Map<string, Promise<Uint8Array>>();
  /** One model described or rendered at a time: the show's cores are the show's. */
  private readonly work = new SerialQueue(512);

  constructor(
    private readonly folders: ModelFolders,
    private readonly playing: () => { file: string; info: ModelInfo },
  ) {}

  async list(): Promise<ModelEntry[]> {
    const files: Array<{ path: string; folder: string; bytes: number; modified: number }> = [];
    for (const folder of this.folders.list()) {
      let names: string[];
      try {
        names = (await readdir(folder)).filter((n) => n.toLowerCase().endsWith('.onnx')).sort();
      } catch {
        continue;
      }
      for (const n of names.slice(0, MAX_PER_FOLDER)) {
        const path = join(folder, n);
        try {
          const s = await stat(path);
          if (s.isFile() && !files.some((f) => f.path === path)) files.push({ path, folder, bytes: s.size, modified: s.mtimeMs });
        } catch {
          // gone between the listing and the stat
        }
      }
    }
    const now = this.playing();
    return Promise.all(
      files.map(async (f): Promise<ModelEntry> => {
        const base = { ...f, name: basename(f.path), inputs: [], outputs: [], image: null };
        try {
          // The playing model is described already: its file is not decoded again to list it.
          const info = f.path === now.file ? now.info : await this.info(f.path, f.bytes, f.modified);
          const img = findImageOutput(info.outputs);
          const mismatches = f.path === now.file ? [] : partnerMismatches(now.info, info);
          const partner = mismatches.length === 0 ? { ok: true } : { ok: false, why: mismatchLine(mismatches, now.info.weights.length), details: mismatches };
          return { ...base, inputs: info.inputs, outputs: info.outputs, image: img ? { width: img.width, height: img.height } : null, partner };
        } catch (err) {
          return { ...base, partner: { ok: false, why: 'not readable as a model' }, error: (err as Error).message };
        }
      }),
    );
  }

  /** The model's first frame as a small PNG (the folders' own files only). */
  thumbnail(name: string): Promise<Uint8Array> {
    const path = this.folders.resolve(name);
    return this.work.run(async () => {
      const s = await stat(path);
      const key = `${path}|${s.size}|${s.mtimeMs}`;
      let t = this.thumbs.get(key);
      if (!t) {
        t = renderThumbnail(path);
        this.thumbs.set(key, t);
        t.catch(() => this.thumbs.delete(key));
      }
      return t;
    });
  }

  private info(path: string, bytes: number, modified: number): Promise<ModelInfo> {
    const key = `${path}|${bytes}|${modified}`;
    let p = this.infos.get(key);
    if (!p) {
      p = this.work.run(async () => {
        const { host, info } = await ModelHost.open(path);
        await host.close();
        return info;
      });
      this.infos.set(key, p);
      p.catch(() => this.infos.delete(key));
    }
    return p;
  }
}

function mismatchLine(m: string[], weights: number): string {
  const missing = m.filter((x) => x.endsWith('is missing in the partner')).length;
  const shaped = m.length - missing;
  return `${m.length} of ${weights} weights do not match${missing ? ` (${missing} missing` : ''}${shaped ? `${missing ? ', ' : ' ('}${shaped} of another shape` : ''})`;
}

/** Frame 0 of the model on the CPU, in its own registry and workers, boxed down to THUMB_SIZE. */
async function renderThumbnail(path: string): Promise<Uint8Array> {
  const { engine } = await Engine.open({ model: path, ep: 'cpu', registry: new ParameterRegistry() });
  try {
    if (!engine.image) throw new Error(`${basename(path)} has no image output to show`);
    const f = await engine.render({ index: 0, time: 0, dt: 0 });
    return encodeThumb(f.width, f.height, f.rgba!);
  } finally {
    await engine.close();
  }
}

function encodeThumb(w: number, h: number, rgba: Uint8Array): Uint8Array {
  const k = Math.max(1, Math.ceil(Math.max(w, h) / THUMB_SIZE));
  const tw = Math.max(1, Math.floor(w / k));
  const th = Math.max(1, Math.floor(h / k));
  const png = new PNG({ width: tw, height: th });
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++)
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += rgba[((y * k + dy) * w + x * k + dx) * 4 + c]!;
        png.data[(y * tw + x) * 4 + c] = Math.round(sum / (k * k));
      }
  return PNG.sync.write(png);
}

// The web UI, bundled in memory with esbuild when the server starts: no build step between a
// clone and a show. Two entry points: the control page and the clean output page.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const page = (title: string, script: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/style.css"></head>
<body><div id="app"></div><script type="module" src="/assets/${script}.js"></script></body></html>`;

export async function buildUi(): Promise<Map<string, { type: string; body: Uint8Array | string }>> {
  const result = await build({
    entryPoints: { control: here('./control.tsx'), output: here('./output.tsx') },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/assets',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.glsl': 'text', '.vert': 'text', '.frag': 'text' },
    logLevel: 'silent',
  });
  const files = new Map<string, { type: string; body: Uint8Array | string }>();
  for (const f of result.outputFiles) files.set(f.path, { type: 'text/javascript; charset=utf-8', body: f.contents });
  files.set('/assets/style.css', { type: 'text/css; charset=utf-8', body: await readFile(here('./style.css'), 'utf8') });
  files.set('/', { type: 'text/html; charset=utf-8', body: page('netbend', 'control') });
  files.set('/output', { type: 'text/html; charset=utf-8', body: page('netbend output', 'output') });
  return files;
}

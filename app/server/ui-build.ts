// The web UI, bundled in memory with esbuild when the server starts: no build step between a
// clone and a show, nothing written to disk.
//
// Contract (used by app/server/http-server.ts):
//   buildUi(): Promise<Map<urlPath, { type, body }>>
//     '/'                  control page (HTML)
//     '/output'            clean output page (HTML)
//     '/assets/control.js' '/assets/output.js'   ES modules (preact, signals, regl bundled in)
//     '/assets/style.css'
//   Pages reference assets by absolute path and open the WebSocket at `/ws` + their own query
//   string (so a ?token=... on the page URL reaches the socket). Rejects if bundling fails.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type UiFiles = Map<string, { type: string; body: Uint8Array | string }>;

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const page = (title: string, script: string, background: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>html,body{background:${background};margin:0}</style>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body><div id="app"></div><script type="module" src="/assets/${script}.js"></script></body>
</html>
`;

export async function buildUi(): Promise<UiFiles> {
  const result = await build({
    entryPoints: { control: here('../ui/control.tsx'), output: here('../ui/output.tsx') },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/assets',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.glsl': 'text', '.vert': 'text', '.frag': 'text' },
    // Shared code (connection, regl) goes in a chunk both pages load.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    minify: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files: UiFiles = new Map();
  for (const f of result.outputFiles) {
    if (!f.path.endsWith('.js')) continue;
    files.set(f.path.replace(/\\/g, '/').replace(/^[A-Za-z]:/, ''), { type: 'text/javascript; charset=utf-8', body: f.contents });
  }
  files.set('/assets/style.css', { type: 'text/css; charset=utf-8', body: await readFile(here('../ui/style.css'), 'utf8') });
  files.set('/', { type: 'text/html; charset=utf-8', body: page('netbend', 'control', '#08090b') });
  files.set('/output', { type: 'text/html; charset=utf-8', body: page('netbend output', 'output', '#000') });
  return files;
}

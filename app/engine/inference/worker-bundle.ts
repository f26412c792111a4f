// Worker threads start from their entry bundled in memory by esbuild, once per entry per process,
// and handed over as a data: URL. Booting a worker through tsx's loader cost about 0.55 s of CPU
// here (0.16 s bundled), and every new session starts a worker on a machine whose frame loop
// wants those cores; nothing is written to disk. onnxruntime-node stays outside the bundle (its
// native binding is found from its own folder), imported by absolute URL.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundles = new Map<string, Promise<URL>>();

/** The data: URL a Worker starts `entry` (a TypeScript module) from. */
export function workerUrl(entry: URL): Promise<URL> {
  let url = bundles.get(entry.href);
  if (!url) {
    url = bundle(entry);
    bundles.set(entry.href, url);
    url.catch(() => bundles.delete(entry.href));
  }
  return url;
}

async function bundle(entry: URL): Promise<URL> {
  const file = fileURLToPath(entry);
  const ort = pathToFileURL(createRequire(file).resolve('onnxruntime-node')).href;
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Code that finds files from its own module (the CUDA libraries beside the binding) still does.
    define: { 'import.meta.url': JSON.stringify(entry.href) },
    logLevel: 'silent',
    plugins: [{ name: 'onnxruntime-outside', setup: (b) => b.onResolve({ filter: /^onnxruntime-node$/ }, () => ({ path: ort, external: true })) }],
  });
  return new URL(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0]!.contents).toString('base64')}`);
}

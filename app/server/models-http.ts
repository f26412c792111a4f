// The model browser's HTTP edge: the model folders' files as JSON, each one's thumbnail, and
// uploads (a file dropped onto the page) into the user's model folder. Uploads change state, so
// the server's origin guard has already let only our own pages through; here they are bounded
// (size, name) and written atomically, never over another file.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { ModelLibrary } from '../scene/model-library.ts';
import type { ModelFolders } from '../scene/model-folders.ts';

/** Larger than any model we know of that fits in a single .onnx file (protobuf's own limit is 2 GiB). */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

export interface ModelsHttpOptions {
  library: ModelLibrary;
  folders: ModelFolders;
  /** Where dropped files go (made on first upload, then one of the model folders). */
  uploadDir: string;
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));

export function modelsHandler(o: ModelsHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/api/models')) return false;
    try {
      if (url.pathname === '/api/models' && req.method === 'GET') {
        json(res, 200, { folders: o.folders.list(), uploadDir: o.uploadDir, models: await o.library.list() });
      } else if (url.pathname === '/api/models/thumb' && req.method === 'GET') {
        const png = await o.library.thumbnail(url.searchParams.get('file') ?? '');
        res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'private, max-age=3600' }).end(png);
      } else if (url.pathname === '/api/models/upload' && req.method === 'POST') {
        json(res, 200, await upload(req, url.searchParams.get('name') ?? '', o));
      } else json(res, 404, { error: `no ${req.method} ${url.pathname}` });
    } catch (err) {
      if (!res.headersSent) json(res, 400, { error: (err as Error).message });
    }
    return true;
  };
}

async function upload(req: IncomingMessage, name: string, o: ModelsHttpOptions): Promise<{ path: string; name: string }> {
  const clean = name
    .split(/[\\/]/)
    .pop()!
    .replace(/[^\w.-]+/g, '-');
  if (!/^[\w][\w.-]*\.onnx$/i.test(clean) || clean.length > 200) throw new Error(`"${name}": drop an .onnx file`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_UPLOAD_BYTES) throw new Error(`${clean} is ${(declared / 1024 ** 3).toFixed(1)} GiB; the largest model file netbend takes is 2 GiB`);
  await mkdir(o.uploadDir, { recursive: true });
  const target = await freeName(o.uploadDir, clean);
  const temp = `${target}.${process.pid}.${Date.now()}.partial`;
  let seen = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > MAX_UPLOAD_BYTES ? new Error(`${clean} is over 2 GiB`) : null, chunk);
    },
  });
  try {
    await pipeline(req, limit, createWriteStream(temp, { flags: 'wx' }));
    if (seen === 0) throw new Error(`${clean} is empty`);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  o.folders.add(o.uploadDir);
  return { path: target, name: clean };
}

/** `name`, or `name-2.onnx`, `name-3.onnx`, ...: an upload never replaces a file. */
async function freeName(dir: string, name: string): Promise<string> {
  const stem = name.replace(/\.onnx$/i, '');
  for (let n = 1; n < 1000; n++) {
    const path = join(dir, n === 1 ? name : `${stem}-${n}.onnx`);
    try {
      await stat(path);
    } catch {
      return path;
    }
  }
  throw new Error(`too many files named ${name} in ${dir}`);
}

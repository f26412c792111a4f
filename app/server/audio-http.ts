// The show's track over HTTP, for pages that play its sound in step with the engine: GET
// /api/audio/track is the decoded track as a 16-bit WAV (byte ranges answered, so an <audio>
// element can seek), GET /api/audio/tracks lists the track folders' sound files for the picker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AudioDesk } from './audio-desk.ts';
import type { ModelFolders } from '../scene/model-folders.ts';
import type { ShowTrack } from '../audio/show-track.ts';
import { encodeWav } from '../audio/wav.ts';

export interface AudioHttpOptions {
  desk: AudioDesk;
  folders: ModelFolders;
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));

export function audioHandler(o: AudioHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  // One WAV per track, made when a page first asks for it.
  const wavs = new WeakMap<ShowTrack, Buffer>();
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/api/audio/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return (json(res, 405, { error: `no ${req.method} ${url.pathname}` }), true);
    if (url.pathname === '/api/audio/tracks') {
      json(res, 200, { folders: o.folders.list(), files: await o.folders.files(), track: o.desk.track?.file ?? null });
      return true;
    }
    if (url.pathname !== '/api/audio/track') return (json(res, 404, { error: `no ${url.pathname}` }), true);
    const track = o.desk.track;
    if (!track) return (json(res, 404, { error: 'no track is loaded' }), true);
    let wav = wavs.get(track);
    if (!wav) wavs.set(track, (wav = encodeWav(track.pcm.samples, track.pcm.rate)));
    const headers = { 'content-type': 'audio/wav', 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (!req.headers.range) {
      res.writeHead(200, { ...headers, 'content-length': wav.length }).end(req.method === 'HEAD' ? undefined : wav);
      return true;
    }
    // One range, `a-b`, `a-` or `-n`; anything else (several ranges, junk) is not satisfiable.
    let [start, end] = [0, wav.length - 1];
    if (range?.[1]) [start, end] = [Number(range[1]), range[2] ? Math.min(Number(range[2]), wav.length - 1) : wav.length - 1];
    else if (range?.[2]) start = Math.max(0, wav.length - Number(range[2]));
    if (!range || (!range[1] && !range[2]) || start > end || start >= wav.length) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${wav.length}` }).end();
      return true;
    }
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${wav.length}`, 'content-length': end - start + 1 });
    res.end(req.method === 'HEAD' ? undefined : wav.subarray(start, end + 1));
    return true;
  };
}

// `netbend serve`: the live engine as a server. HTTP (UI, OSCQuery) on loopback unless a LAN host
// is asked for; the picture and control stream on /ws.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LiveSession } from '../server/live-session.ts';
import { systemPorts } from '../server/show-ports.ts';
import { modelsHandler } from '../server/models-http.ts';
import { audioHandler } from '../server/audio-http.ts';
import { startServer } from '../server/http-server.ts';
import { oscQueryHandler, oscQueryUpgrade } from '../io/oscquery.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import type { RecordFormat } from '../record/formats.ts';
import { AllowList, CidrError } from '../io/cidr.ts';
import { UsageError } from './bend-options.ts';
import { signature } from '../scene/actions.ts';

export interface ServeOptions {
  port: number;
  host: string;
  oscPort: number;
  open: boolean;
  ep?: EpChoice;
  fps: number;
  seed?: number;
  /** `<input>=<kind>` per input fed by another source kind (--source). */
  source?: string[];
  presets: string;
  /** Folders models may be loaded from by name, besides the repo's models/ and the playing model's. */
  models?: string[];
  recordDir: string;
  recordFormat?: RecordFormat;
  controller?: string;
  bind?: string[];
  route?: string[];
  oscTarget?: string[];
  /** UDP senders OSC obeys, CIDRs or addresses (each may be comma-separated); default loopback. */
  oscAllow?: string[];
  /** Origins (besides netbend's own pages) trusted to control the show, already normalised. */
  allowOrigin?: string[];
  /** Audio features defined at start, for OSC from an analyser elsewhere. */
  audioOsc?: boolean;
  /** A sound file played as the show's track (--track). */
  track?: string;
  /** Folders tracks may be loaded from by name (--tracks, repeatable). */
  tracks?: string[];
  /** A Node-side capture: `<ffmpeg input format>:<device>` (--audio-in). */
  audioIn?: string;
}

/** How long a stop waits for a take to be finished and everything closed. */
const STOP_GRACE_MS = 20_000;

export async function serve(model: string, o: ServeOptions): Promise<void> {
  // Checked before the model loads: a typo in the allow list is one line, not a show without OSC.
  try {
    if (o.oscAllow) new AllowList(o.oscAllow);
  } catch (err) {
    if (err instanceof CidrError) throw new UsageError(`--osc-allow ${err.message}`);
    throw err;
  }
  const { session, warnings } = await LiveSession.open(
    {
      model,
      ep: o.ep,
      seed: o.seed,
      sources: sourceKinds(o.source),
      oscTargets: (o.oscTarget ?? []).map(parseTarget),
      oscAllow: o.oscAllow,
      modelDirs: o.models,
      controller: o.controller ? { file: o.controller, bind: o.bind ?? [], route: o.route ?? [] } : undefined,
      audioOsc: o.audioOsc,
      track: o.track,
      trackDirs: o.tracks,
      audioIn: o.audioIn,
    },
    systemPorts({ fps: o.fps, oscPort: o.oscPort, oscHost: o.host, presetsDir: o.presets, recordDir: o.recordDir, recordFormat: o.recordFormat }),
  );
  warnings.forEach((w) => console.error(`netbend: warning: ${w}`));
  session.on('notice', (n) => console.error(`netbend: ${n.level === 'info' ? '' : n.level + ': '}${n.text}`));
  const server = await startServer({
    session,
    port: o.port,
    host: o.host,
    allowOrigins: o.allowOrigin,
    handlers: [
      modelsHandler({ library: session.library, folders: session.folders, uploadDir: session.uploadDir }),
      audioHandler({ desk: session.audio, folders: session.trackFolders }),
      oscQueryHandler(session.params, {
        oscPort: () => session.osc?.port ?? 0,
        host: o.host,
        moves: () => session.scene.actions.list().map((a) => ({ address: a.address, types: signature(a.args), description: a.description })),
      }),
    ],
    upgrades: [oscQueryUpgrade(session.params, { osc: session.osc })],
  });
  console.error(`netbend: OSC on ${session.osc?.url ?? 'no port'} (obeys ${session.osc?.allow ?? 'nobody'}), OSCQuery on ${server.url}`);
  // Tools (Electron shell, tests) read this exact line to find the server.
  console.log(`netbend: serving ${server.url}`);
  console.error(`netbend: playing ${session.engine.file} on ${session.engine.ep}; output window: ${server.url.replace(/\/(\?|$)/, '/output$1')}`);
  if (o.open) openBrowser(server.url);
  // A show that is asked to stop stops: a take finishing its file gets a while, then the exit hook
  // ends its ffmpeg (the fragmented partial stays playable) rather than the process hanging.
  const stop = async () => {
    const closed = (async () => {
      await server.close();
      await session.close();
    })();
    const late = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), STOP_GRACE_MS).unref())]);
    if (late) console.error(`netbend: still closing after ${STOP_GRACE_MS / 1000} s; stopping now`);
    process.exit(late ? 1 : 0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => console.error(`netbend: open ${url} in a browser`));
    child.unref();
  } catch {
    console.error(`netbend: open ${url} in a browser`);
  }
}

function parseTarget(spec: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`--osc-target "${spec}": expected host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * The desktop shell when Electron is installed (it is optional: its binary download fails on
 * machines without internet). Resolves false when it is not there, so the caller serves to a browser.
 */
export async function startElectron(args: string[]): Promise<boolean> {
  let binary: string;
  try {
    const { createRequire } = await import('node:module');
    binary = createRequire(import.meta.url)('electron') as unknown as string;
    if (typeof binary !== 'string' || !existsSync(binary)) return false;
  } catch {
    return false;
  }
  const main = fileURLToPath(new URL('../electron/main.cjs', import.meta.url));
  const child = spawn(binary, [main, ...args], { stdio: 'inherit', env: { ...process.env, NETBEND_NODE: process.execPath } });
  await new Promise((r) => child.on('exit', r));
  return true;
}

/** `--source z=keyframes` (repeatable) as the engine's per-input source kinds. */
function sourceKinds(specs: string[] | undefined): Record<string, string> | undefined {
  if (!specs?.length) return undefined;
  return Object.fromEntries(
    specs.map((spec) => {
      const i = spec.indexOf('=');
      if (i <= 0 || i === spec.length - 1) throw new Error(`--source "${spec}": expected <input>=<kind>, e.g. z=keyframes`);
      return [spec.slice(0, i), spec.slice(i + 1)];
    }),
  );
}

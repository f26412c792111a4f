// netbend's command line. Every failure ends as one line naming the file and the problem, and a
// non-zero exit; stack traces only with NETBEND_DEBUG=1.
import { Command, InvalidArgumentError } from 'commander';
import { fileURLToPath } from 'node:url';
import { EP_CHOICES, type EpChoice } from '../engine/inference/protocol.ts';
import { RECORD_FORMATS, type RecordFormat } from '../record/formats.ts';
import { UsageError } from './bend-options.ts';
import { normaliseOrigin } from '../server/origin-guard.ts';
// The commands are imported when they run: `play` or `inspect` does not load the server, the
// recorder and the trainer first (a few hundred ms at every start).

export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/default.onnx', import.meta.url));
const PRESETS_DIR = fileURLToPath(new URL('../../presets', import.meta.url));

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number >= 0`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = num(name)(v);
  if (n <= 0) throw new InvalidArgumentError(`${name} must be > 0`);
  return n;
};
const ep = (v: string): EpChoice => {
  if (!(EP_CHOICES as readonly string[]).includes(v)) throw new InvalidArgumentError(`use one of ${EP_CHOICES.join(', ')}`);
  return v as EpChoice;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];
const names = (flag: string) => (v: string) => {
  const list = v.split(',').map((s) => s.trim());
  if (list.some((s) => !s)) throw new InvalidArgumentError(`${flag} is a comma-separated list of column names`);
  return list;
};
const sizes = (v: string) => {
  const list = v.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError('--hidden is a comma-separated list of layer sizes, e.g. 32,32');
  return list;
};
const MAPPER_KINDS = ['linear', 'kernel', 'knn', 'mlp'] as const;
const mapperKind = (v: string) => {
  if (!(MAPPER_KINDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`use one of ${MAPPER_KINDS.join(', ')}`);
  return v as (typeof MAPPER_KINDS)[number];
};
const recordFormat = (v: string): RecordFormat => {
  if (!(RECORD_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`use one of ${RECORD_FORMATS.join(', ')}`);
  return v as RecordFormat;
};
/** `--allow-origin a,b` (repeatable): each one checked and written as browsers send it. */
const origins = (v: string, prev: string[] = []) => {
  try {
    return [
      ...prev,
      ...v
        .split(',')
        .filter((s) => s.trim())
        .map(normaliseOrigin),
    ];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const bendFlags = (c: Command) =>
  c
    .option('--edit <spec>', 'weight edit "<name|glob|layer>:<op>=<amount>" (repeatable)', collect)
    .option('--bend <spec>', 'feature-map op after a layer "<layer>:<op>=<amount>[@<channels>]", e.g. "b32:rotate=90@share:0.5" (repeatable)', collect)
    .option('--blend <partner>', 'blend partner .onnx (same architecture)')
    .option('--blend-amount <t>', 'blend amount for all layers (0 = model, 1 = partner)', num('--blend-amount'))
    .option('--blend-layer <layer=t>', 'blend amount for one layer (repeatable)', collect)
    // W space (issue 15): StyleGAN-style graphs only; elsewhere these flags say why not.
    .option('--truncation <psi>', 'truncation psi toward the estimated w_avg (1 = off, 0 = w_avg for every seed)', num('--truncation'))
    .option('--mix-seed <s>', 'style mixing: seed of the second latent', int('--mix-seed'))
    .option('--mix-from <layer>', 'style mixing: first w layer taken from --mix-seed (num_ws = off)', int('--mix-from'))
    .option('--direction <k=amount>', 'move along principal direction k of w, in standard deviations, "<k>=<amount>[@<from>-<to>]" (repeatable)', collect)
    .option('--directions <set.json>', 'play a saved direction set (its vectors and layer ranges) instead of the estimated directions')
    .option('--save-directions <set.json>', 'save the directions played, with their layer ranges, as a direction set')
    .option('--animate <param=lfo|expr>', 'move a parameter per frame by an LFO or an expression, e.g. "blend/all=sine:0.5hz", "z/offset=0.5 + audio.low" (repeatable)', collect);

const program = new Command('netbend').description('play, bend and blend ONNX generators live').showHelpAfterError();

program
  .command('inspect')
  .description('list inputs, outputs, layers and weights of a model')
  .argument('<model>', 'an .onnx file')
  .option('--json', 'machine-readable output')
  .action(async (model: string, o: { json?: boolean }) => (await import('./inspect.ts')).inspect(model, o));

const playCommand = program
  .command('play')
  .description('render frames headless (offline driver: deterministic) into a folder')
  .argument('<model>', 'an .onnx model or a preset .json')
  .option('--frames <n>', 'frames to render', int('--frames'), 60)
  .requiredOption('--out <dir>', 'output folder')
  .option('--seed <s>', 'seed of the latent source', int('--seed'))
  .option('--fps <f>', 'frames per second of animation time', positive('--fps'), 30)
  .option('--ep <ep>', `execution provider: ${EP_CHOICES.join('|')}`, ep)
  .option('--tap <layer>', 'write this layer as channel-grid PNGs and .f32 dumps (repeatable)', collect)
  .option('--audio <track>', 'a sound file whose features (audio.low, audio.onset, ...) expressions may read, frame for frame');
bendFlags(playCommand).action(async (model: string, o) => (await import('./play.ts')).play(model, o));

bendFlags(
  program
    .command('render')
    .description('render a clip on the offline driver: every frame, same frames every time')
    .argument('[model]', 'an .onnx model or a preset .json (not with --take)')
    .option('--take <take.json>', 'render a recorded performance again: exactly at its own fps, the same control curves at another')
    .option('--seconds <s>', "clip length (default 10, or the --audio track's; a take plays to its end)", positive('--seconds'))
    .option('--audio <track>', 'drive the clip with a sound file (features frame for frame, e.g. audio.onset) and mux it in: AAC in MP4, PCM in MOV, audio.wav in a PNG folder')
    .option('--fps <f>', "frames per second (default 30, or the take's)", positive('--fps'))
    .option('--size <WxH>', 'video size (frames are scaled), default the model output size')
    .requiredOption('--out <file>', 'output file (.mp4, .mov) or folder (png)')
    .option('--format <f>', `video format: ${RECORD_FORMATS.join('|')}`, recordFormat, 'h264' as RecordFormat)
    .option('--seed <s>', 'seed of the latent source', int('--seed'))
    .option('--ep <ep>', `execution provider: ${EP_CHOICES.join('|')}`, ep),
).action(async (model: string | undefined, o) => (await import('./render.ts')).render(model, o));

program
  .command('serve')
  .description('run the live engine as a server: UI and OSCQuery over HTTP, OSC over UDP')
  .argument('[model]', 'an .onnx model or a preset .json', DEFAULT_MODEL)
  .option('--port <port>', 'HTTP port (0 = any free port)', int('--port'), 8930)
  .option('--host <host>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
  .option('--osc-port <port>', 'OSC UDP port', int('--osc-port'), 9000)
  .option('--no-open', 'do not open a browser')
  .option('--ep <ep>', `execution provider: ${EP_CHOICES.join('|')}`, ep)
  .option('--fps <f>', 'target frame rate', positive('--fps'), 30)
  .option('--seed <s>', 'seed of the latent source', int('--seed'))
  .option('--presets <dir>', 'folder presets are saved to and recalled from', 'presets')
  .option('--models <dir>', "a folder models and partners may be loaded from by name (repeatable; the repo models/ and the playing model's folder always are)", collect)
  .option('--record-dir <dir>', 'folder live recordings go to', 'recordings')
  .option('--record-format <f>', `live recording format: ${RECORD_FORMATS.join('|')} (png is lossless: a take re-renders to the same frames)`, recordFormat, 'h264' as RecordFormat)
  .option('--osc-allow <cidr,...>', 'OSC UDP senders obeyed, e.g. "192.168.1.0/24,fe80::/10" (repeatable; default loopback only)', collect)
  .option('--osc-target <host:port>', 'send changed values and outputs there over OSC (repeatable)', collect)
  .option('--audio-osc', 'define the audio features (/netbend/audio/*) at start, for an analyser elsewhere that sends them over OSC')
  .option('--audio-in <format:device>', 'capture sound on this machine through ffmpeg: pulse:default, alsa:hw:0, avfoundation::0, dshow:audio=<name>, any <ffmpeg input format>:<device>')
  .option('--track <file>', "a sound file (wav, mp3, flac, ogg, ...) played as the show's track: its features drive the show, paused and played with the transport; pages play its sound in step")
  .option('--tracks <dir>', "a folder tracks may be loaded from by name (/netbend/audio/track/load, the audio tab's picker) (repeatable; --track's folder always is)", collect)
  .option('--controller <net.onnx>', 'a regression net driven by parameters (e.g. 4 knobs -> 16 edit amounts)')
  .option('--bind <input=param>', 'controller input from a parameter, e.g. "0=knobs/k1" (repeatable)', collect)
  .option('--route <output=param>', 'controller output to a parameter, e.g. "3=b16-scale/amount" (repeatable)', collect)
  .option('--source <input=kind>', 'an input fed by another source kind, e.g. "z=keyframes" (a keyframe loop: seed grid jumps, loops of kept picks) (repeatable)', collect)
  .option('--allow-origin <origin,...>', "web origins besides netbend's own pages that may control the show and read its values, e.g. http://127.0.0.1:3000 (repeatable)", origins)
  .action(async (model: string, o) => (await import('./serve.ts')).serve(model, o));

program
  .command('train')
  .description('train a mapper from some columns of a CSV of examples to others; writes <out> (ONNX, a controller net) and <out>.card.json')
  .argument('<data>', 'a .csv with a header row of column names, one example a row')
  .requiredOption('--inputs <a,b,...>', 'input columns', names('--inputs'))
  .requiredOption('--targets <x,y,...>', 'target columns', names('--targets'))
  .option('--model <kind>', `${MAPPER_KINDS.join('|')}`, mapperKind, 'mlp' as const)
  .option('--hidden <sizes>', 'MLP hidden layer sizes (default 32,32)', sizes)
  .option('--pca <n>', 'reduce the targets to n principal components', int('--pca'))
  .option('--pca-variance <share>', 'keep the principal components holding this share of the target variance, e.g. 0.95', positive('--pca-variance'))
  .option('--k <n>', 'kNN neighbours (default 5)', int('--k'))
  .option('--ridge <r>', 'ridge strength, linear and kernel (default 1e-3)', num('--ridge'))
  .option('--gamma <g>', 'RBF kernel width (default 1 / inputs; inputs are scaled)', positive('--gamma'))
  .option('--validation <share>', 'share of examples held back to measure the fit (default 0.2)', positive('--validation'))
  .option('--max-epochs <n>', 'MLP epochs at most (default 2000; stops early)', int('--max-epochs'))
  .option('--no-refit', 'keep the fit measured on the held-back share instead of fitting again on all examples')
  .option('--seed <s>', 'seed of the split and the MLP weights', int('--seed'))
  .option('--out <file>', 'the mapper file (default <data>.onnx beside the data)')
  .action(async (data: string, o) => (await import('./train.ts')).trainCommand(data, o));

program
  .command('start', { isDefault: true })
  .description('play the bundled default model in the UI (Electron when installed, else the browser)')
  .option('--track <file>', "a sound file played as the show's track")
  .action(async (o: { track?: string }) => {
    const { serve, startElectron } = await import('./serve.ts');
    if (await startElectron([DEFAULT_MODEL, '--presets', PRESETS_DIR, ...(o.track ? ['--track', o.track] : [])])) return;
    await serve(DEFAULT_MODEL, { port: 8930, host: '127.0.0.1', oscPort: 9000, open: true, ep: 'auto', fps: 30, presets: PRESETS_DIR, recordDir: 'recordings', track: o.track });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (process.env.NETBEND_DEBUG) console.error(err);
  const msg = err instanceof Error ? err.message : String(err);
  console.error(`netbend: ${msg}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}

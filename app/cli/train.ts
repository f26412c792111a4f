// `netbend train <data.csv>`: fits a mapper from some columns to others in a worker thread, with a
// progress bar on a terminal, prints the held-back error, and writes the ONNX file and its card.
import cliProgress from 'cli-progress';
import { basename, extname, join, dirname } from 'node:path';
import { readDataset } from '../learn/dataset.ts';
import { type MapperKind, type TrainOptions, type TrainProgress, trainInWorker, writeMapper } from '../learn/train.ts';
import { UsageError } from './bend-options.ts';

export interface TrainFlags {
  inputs: string[];
  targets: string[];
  model: MapperKind;
  hidden?: number[];
  pca?: number;
  pcaVariance?: number;
  k?: number;
  ridge?: number;
  gamma?: number;
  validation?: number;
  maxEpochs?: number;
  refit: boolean;
  seed?: number;
  out?: string;
}

export async function trainCommand(file: string, f: TrainFlags): Promise<void> {
  if (f.pca !== undefined && f.pcaVariance !== undefined) throw new UsageError('--pca and --pca-variance: give one or the other');
  const data = await readDataset(file);
  const opts: TrainOptions = {
    inputs: f.inputs,
    targets: f.targets,
    model: f.model,
    refit: f.refit,
    ...(f.hidden && { hidden: f.hidden }),
    ...(f.pca !== undefined && { pca: { components: f.pca } }),
    ...(f.pcaVariance !== undefined && { pca: { variance: f.pcaVariance } }),
    ...(f.k !== undefined && { k: f.k }),
    ...(f.ridge !== undefined && { ridge: f.ridge }),
    ...(f.gamma !== undefined && { gamma: f.gamma }),
    ...(f.validation !== undefined && { validation: f.validation }),
    ...(f.maxEpochs !== undefined && { maxEpochs: f.maxEpochs }),
    ...(f.seed !== undefined && { seed: f.seed }),
  };
  const out = f.out ?? join(dirname(file), `${basename(file, extname(file))}.onnx`);
  const bar = progressBar();
  let mapper: Awaited<ReturnType<typeof trainInWorker>>;
  try {
    mapper = await trainInWorker(data, opts, bar.update);
  } finally {
    bar.done();
  }
  await writeMapper(out, mapper);
  const c = mapper.card;
  const held = Math.min(c.examples - 2, Math.max(1, Math.round(c.examples * (c.settings.validation as number))));
  const per = c.targets.map((t, i) => `${t} ${fmt(c.validationRmsePerTarget[i]!)}`).join(', ');
  const pca = c.pca ? `, PCA ${c.pca.components} component${c.pca.components > 1 ? 's' : ''} keeping ${(100 * c.pca.explained.reduce((a, b) => a + b, 0)).toFixed(1)}% of the variance` : '';
  process.stdout.write(
    `${c.model} mapper ${c.inputs.join(',')} -> ${c.targets.join(',')}${pca}\n` +
      `validation RMSE ${fmt(c.validationRmse)} (${per}) on ${held} of ${c.examples} examples held back\n` +
      `wrote ${out} and ${out}.card.json\n`,
  );
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3));

/** Epochs of each pass on a terminal (validate, then refit); nothing when stderr is a pipe. */
function progressBar(): { update(p: TrainProgress): void; done(): void } {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  let bar: cliProgress.SingleBar | undefined;
  let pass: string | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(p) {
      if (p.stage !== 'training' || p.epochs === undefined) return;
      if (p.pass !== pass) {
        stop();
        pass = p.pass;
        bar = new cliProgress.SingleBar(
          { format: ` ${pass === 'refit' ? 'refit on all' : 'training'} {bar} {value}/{total} epochs  loss {loss}{val}  ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.epochs, 0, { loss: '-', val: '' });
      }
      bar?.update(p.epoch ?? 0, { loss: p.loss === undefined ? '-' : p.loss.toExponential(2), val: p.validationLoss === undefined ? '' : `  held back ${p.validationLoss.toExponential(2)}` });
    },
    done: stop,
  };
}

// `npm run bench [name...]`: runs the named benches (all by default) and writes bench/results/.
import { benchEngine } from './engine.ts';
import { benchBending } from './bending.ts';
import { benchRecord } from './record.ts';
import { benchControl } from './control.ts';
import { benchStream } from './stream.ts';
import { benchTrain } from './train.ts';
import { benchAudio } from './audio.ts';
import { benchLatent } from './latent.ts';

const benches: Record<string, () => Promise<void>> = {
  engine: benchEngine,
  bending: benchBending,
  record: benchRecord,
  control: benchControl,
  stream: benchStream,
  train: benchTrain,
  audio: benchAudio,
  latent: benchLatent,
};
const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const run = benches[name];
  if (!run) throw new Error(`no bench "${name}"; benches: ${Object.keys(benches).join(', ')}`);
  console.log(`bench: ${name}`);
  await run();
}

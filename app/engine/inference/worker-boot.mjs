// Worker threads do not inherit tsx's loader hooks on Node 20, so each worker starts here and
// loads its TypeScript entry through tsx's API.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);

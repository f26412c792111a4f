#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a clone and a show.
import { tsImport } from 'tsx/esm/api';

await tsImport('../app/cli/main.ts', import.meta.url);

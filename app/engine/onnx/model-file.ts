// Reading a model file is an edge: every way it can fail becomes one ModelFileError that names the
// file and the problem, so the CLI and the live engine can report it and keep the last good state.
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from './schema/onnx_pb.ts';
import { rawDataProblem } from './tensor-data.ts';

export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * The one path a model file goes by: absolute, with symlinks resolved, so the same file reached
 * through a linked folder is the same model (no switch to itself, no lock refusal for it).
 */
export function canonicalPath(file: string): string {
  const abs = resolve(file);
  try {
    return realpathSync(abs);
  } catch {
    return abs; // not there (yet): opening it will say so
  }
}

export async function readModelFile(file: string): Promise<{ bytes: Uint8Array; model: ModelProto }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not an .onnx file' : `cannot read (${code ?? String(err)})`);
  }
  return { bytes, model: decodeModel(bytes, file) };
}

export function decodeModel(bytes: Uint8Array, file = '<memory>'): ModelProto {
  if (bytes.length === 0) throw new ModelFileError(file, 'file is empty, not an ONNX model');
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw new ModelFileError(file, `not a valid ONNX model (truncated or not ONNX protobuf: ${(err as Error).message})`);
  }
  const g = model.graph;
  if (!g || g.node.length === 0 || model.irVersion === 0n) throw new ModelFileError(file, 'not an ONNX model (no graph or IR version inside)');
  if (g.output.length === 0) throw new ModelFileError(file, 'ONNX graph has no outputs');
  for (const t of g.initializer) {
    if (t.dataLocation === 1) throw new ModelFileError(file, `weight ${t.name} is stored in an external data file, which netbend does not load yet; re-export with all weights inside the .onnx file`);
    const problem = rawDataProblem(t);
    if (problem) throw new ModelFileError(file, problem);
  }
  return model;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

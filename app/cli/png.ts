// PNG files for frames and layer taps (the headless outputs).
import { PNG } from 'pngjs';
import { writeFile } from 'node:fs/promises';

export async function writePng(path: string, width: number, height: number, rgba: Uint8Array): Promise<void> {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  await writeFile(path, PNG.sync.write(png, { deflateLevel: 3 }));
}

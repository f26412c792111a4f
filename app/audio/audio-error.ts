// What goes wrong with sound, in one line naming the file or the setting: no such file, not sound,
// no samples, settings out of range. Its own module, so the analyser loads no ffmpeg plumbing.
export type AudioErrorCode = 'NOT_FOUND' | 'NOT_AUDIO' | 'EMPTY' | 'BAD_OPTIONS' | 'NO_DEVICE';

export class AudioError extends Error {
  readonly code: AudioErrorCode;
  constructor(code: AudioErrorCode, message: string) {
    super(message);
    this.name = 'AudioError';
    this.code = code;
  }
}

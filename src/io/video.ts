/**
 * Video frames through Debian's ffmpeg, as RGB images. The file is checked first (a regular file: a FIFO
 * would block ffprobe forever), its frame size is read by ffprobe and checked against the image pixel limit
 * before anything is decoded, paths reach ffmpeg/ffprobe as `file:` URLs after their options (a clip named
 * `-v.mp4` is a file, not an option), frames are cut out of the stream in time linear in its size, and a
 * video that decodes to no frame is an error, not silence.
 */
import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { MAX_PIXELS, type RawImage } from './image.js';

/** A path as ffmpeg's `file:` protocol URL (absolute, so that no name reads as an option or a protocol). */
export const ffmpegInput = (file: string) => `file:${path.resolve(file)}`;

/**
 * The first video stream's coded size and rotation, from ffprobe; errors are one-line messages for the file's
 * result (no such file, not a regular file, no ffmpeg, not a video).
 */
export function probeVideo(file: string): ProbedStream {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new Error('no such file');
  }
  if (!st.isFile()) throw new Error('not a regular file (a FIFO, device or folder)');
  const entries = 'stream=width,height:stream_tags=rotate:stream_side_data=rotation';
  let probe: string;
  try {
    probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', ffmpegInput(file)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('video needs ffmpeg (apt-get install ffmpeg / brew install ffmpeg)', { cause: e });
    throw new Error('not a readable video', { cause: e });
  }
  const stream = parseProbe(probe);
  if (!stream) throw new Error('not a readable video (no video stream)');
  return stream;
}

/** The size of the frames ffmpeg writes of the first video stream (upright: a stored quarter turn swaps the sides), checked against the pixel limit. */
export function videoSize(file: string): { width: number; height: number } {
  const { width, height } = uprightSize(probeVideo(file));
  if (width * height > MAX_PIXELS) throw new Error(`video frames too large (${width}×${height}, over the 50-megapixel limit)`);
  return { width, height };
}

/** What ffprobe says of a video stream: its coded size and the quarter turns a player applies to show it. */
export interface ProbedStream {
  width: number;
  height: number;
  /** Degrees, from the display matrix (ffmpeg ≥ 5) or the older `rotate` tag; 0 when neither is there. */
  rotation: number;
}

/** ffprobe's JSON (stream=width,height, its rotate tag and side data) → the first video stream, or null. */
export function parseProbe(json: string): ProbedStream | null {
  let s: { width?: number; height?: number; tags?: { rotate?: string }; side_data_list?: { rotation?: number }[] } | undefined;
  try {
    s = (JSON.parse(json) as { streams?: (typeof s)[] }).streams?.[0];
  } catch {
    return null;
  }
  const width = Number(s?.width),
    height = Number(s?.height);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) return null;
  const side = s?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const rotation = Number(side ?? s?.tags?.rotate ?? 0) || 0;
  return { width, height, rotation };
}

/**
 * The size of the frames ffmpeg writes: it turns each frame upright by the stream's rotation (a phone's portrait
 * video is stored 1920×1080 with a quarter turn), so a quarter turn swaps the sides.
 */
export function uprightSize(s: ProbedStream): { width: number; height: number } {
  const quarter = Math.abs(Math.round(s.rotation / 90)) % 2 === 1;
  return quarter ? { width: s.height, height: s.width } : { width: s.width, height: s.height };
}

/**
 * Frames of a video, `fps` per second, as RGB images. A clip shorter than the frame interval (one or two frames, or
 * `fps` below 1 / its length) gets no frame from ffmpeg's fps filter: it is then read as its first frame.
 */
export async function* videoFrames(file: string, fps = 5): AsyncGenerator<RawImage> {
  const size = videoSize(file);
  let frames = 0;
  for await (const frame of ffmpegFrames(file, size, [`fps=${fps}`])) {
    frames++;
    yield frame;
  }
  if (frames === 0)
    for await (const frame of ffmpegFrames(file, size, [], ['-frames:v', '1'])) {
      frames++;
      yield frame;
    }
  if (frames === 0) throw new Error('no frame could be decoded (not a readable video)');
}

/** ffmpeg's frames of `file` through the filters `vf` (then scaled to `size`), as RGB images; `output`: more options. */
async function* ffmpegFrames(
  file: string,
  { width, height }: { width: number; height: number },
  vf: string[],
  output: string[] = [],
): AsyncGenerator<RawImage> {
  const frameBytes = width * height * 3;
  const proc = spawn(
    'ffmpeg',
    // ffmpeg turns frames upright by the stream's rotation (videoSize's size); the scale to that size keeps every frame
    // exactly width×height×3 bytes even where an ffmpeg build would not turn them (distorted, never out of step).
    [
      '-nostdin',
      '-v',
      'error',
      '-i',
      ffmpegInput(file),
      '-vf',
      [...vf, `scale=${width}:${height}`].join(','),
      ...output,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      // Each byte copied once into the frame being filled: linear in the stream's size.
      for (let off = 0; off < chunk.length;) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        chunk.copy(frame, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          yield { data: new Uint8Array(frame.buffer, frame.byteOffset, frameBytes), width, height, channels: 3 };
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
  await exited;
}

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
import { MAX_INPUT_PIXELS, MAX_PIXELS, decodedSize, type RawImage } from './image.js';

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
  const entries = 'stream=width,height,duration:stream_tags=rotate:stream_side_data=rotation:format=duration';
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

/** The frames fer reads of the first video stream: their size (fitFrames) and the stream's duration. */
export function videoSize(file: string): FrameSize & { duration?: number } {
  const probed = probeVideo(file);
  return { ...fitFrames(probed), duration: probed.duration };
}

export interface FrameSize {
  width: number;
  height: number;
  /** The stream's own upright size, when its frames are shrunk to MAX_PIXELS. */
  scaledFrom?: { width: number; height: number };
}

/** A side rounded down to even (ffmpeg's scaler and most pixel formats want it), at least 2. */
const even = (v: number) => Math.max(2, v - (v % 2));

/**
 * The size of the frames fer reads: upright (a stored quarter turn swaps the sides), shrunk to MAX_PIXELS as a
 * photo is (even sides, for ffmpeg's scaler), and refused over MAX_INPUT_PIXELS as a photo is, before any decoding.
 */
export function fitFrames(probed: ProbedStream): FrameSize {
  const { width, height } = uprightSize(probed);
  if (width * height > MAX_INPUT_PIXELS)
    throw new Error(`video frames too large (${width}×${height}, over the ${Math.round(MAX_INPUT_PIXELS / 1e6)}-megapixel limit)`);
  if (width * height <= MAX_PIXELS) return { width, height };
  const fit = decodedSize(width, height); // a photo's shrink, then even sides
  return { width: even(fit.width), height: even(fit.height), scaledFrom: { width, height } };
}

/** What ffprobe says of a video stream: its coded size and the quarter turns a player applies to show it. */
export interface ProbedStream {
  width: number;
  height: number;
  /** Degrees, from the display matrix (ffmpeg ≥ 5) or the older `rotate` tag; 0 when neither is there. */
  rotation: number;
  /** Seconds: the stream's duration, else the file's; undefined when neither is known (a live stream's dump). */
  duration?: number;
}

/** ffprobe's JSON (stream=width,height, its rotate tag and side data) → the first video stream, or null. */
export function parseProbe(json: string): ProbedStream | null {
  let s:
    | { width?: number; height?: number; duration?: string; tags?: { rotate?: string }; side_data_list?: { rotation?: number }[] }
    | undefined;
  let format: { duration?: string } | undefined;
  try {
    const parsed = JSON.parse(json) as { streams?: (typeof s)[]; format?: typeof format };
    s = parsed.streams?.[0];
    format = parsed.format;
  } catch {
    return null;
  }
  const width = Number(s?.width),
    height = Number(s?.height);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) return null;
  const side = s?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const rotation = Number(side ?? s?.tags?.rotate ?? 0) || 0;
  const duration = [s?.duration, format?.duration].map(Number).find((d) => Number.isFinite(d) && d > 0);
  return duration === undefined ? { width, height, rotation } : { width, height, rotation, duration };
}

/**
 * The size of the frames ffmpeg writes: it turns each frame upright by the stream's rotation (a phone's portrait
 * video is stored 1920×1080 with a quarter turn), so a quarter turn swaps the sides.
 */
export function uprightSize(s: ProbedStream): { width: number; height: number } {
  // ffmpeg turns by quarter turns only: a 45° tag leaves the frames as they are stored
  const quarter = Math.abs(s.rotation) % 180 === 90;
  return quarter ? { width: s.height, height: s.width } : { width: s.width, height: s.height };
}

/**
 * Frames of a video, `fps` per second, as RGB images. A clip shorter than the frame interval (one or two frames, or
 * `fps` below 1 / its length) gets no frame from ffmpeg's fps filter: it is then read as its first frame. A video
 * whose decoding stopped early with an error (a file cut short, damaged data) throws after the frames it gave,
 * saying where it stopped: ffmpeg itself ends such a file with exit code 0.
 */
export async function* videoFrames(file: string, fps = 5): AsyncGenerator<RawImage> {
  const { duration, ...size } = videoSize(file);
  const read = ffmpegFrames(file, size, [`fps=${fps}`]);
  let frames = 0;
  for await (const frame of read.frames) {
    frames++;
    yield frame;
  }
  if (frames === 0) {
    const first = ffmpegFrames(file, size, [], ['-frames:v', '1']);
    for await (const frame of first.frames) {
      frames++;
      yield frame;
    }
  }
  const error = read.error();
  if (frames === 0) throw new Error(`no frame could be decoded (not a readable video${error ? `: ffmpeg: ${error}` : ''})`);
  // ffmpeg's fps filter gives about duration × fps frames; a decoding error and far fewer is a video cut short
  if (error && duration && frames < 0.9 * duration * fps - 1)
    throw new Error(`damaged video: decoding stopped at ${(frames / fps).toFixed(1)} s of ${duration.toFixed(1)} s (ffmpeg: ${error})`);
}

/**
 * ffmpeg's frames of `file` through the filters `vf` (then scaled to `size`), as RGB images; `output`: more options.
 * `error()`: ffmpeg's last error line once the frames are read (null: none). A missing ffmpeg is thrown as one line.
 */
function ffmpegFrames(file: string, size: FrameSize, vf: string[], output: string[] = []) {
  let stderr = '';
  const error = () =>
    stderr
      .split('\n')
      .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').trim())
      .filter(Boolean)
      .pop() ?? null;
  async function* frames(): AsyncGenerator<RawImage> {
    const { width, height, scaledFrom } = size;
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
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let spawnError: NodeJS.ErrnoException | null = null;
    const exited = new Promise<void>((resolve) => {
      proc.on('close', () => resolve());
      proc.on('error', (e) => {
        spawnError = e; // ffprobe was found but ffmpeg not: without a handler, an uncaught 'error' ended the process
        resolve();
      });
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4096); // the last lines say why it stopped
    });
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
            const image: RawImage = { data: new Uint8Array(frame.buffer, frame.byteOffset, frameBytes), width, height, channels: 3 };
            yield scaledFrom ? { ...image, scaledFrom } : image;
            frame = Buffer.allocUnsafe(frameBytes);
            filled = 0;
          }
        }
      }
    } finally {
      if (proc.exitCode === null && !spawnError) proc.kill();
    }
    await exited;
    if (spawnError) {
      const e: NodeJS.ErrnoException = spawnError;
      throw new Error(e.code === 'ENOENT' ? 'video needs ffmpeg (apt-get install ffmpeg / brew install ffmpeg)' : `ffmpeg: ${e.message}`, {
        cause: e,
      });
    }
  }
  return { frames: frames(), error };
}

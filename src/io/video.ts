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

/** The first video stream's frame size, from ffprobe; errors are one-line messages for the file's result. */
export function videoSize(file: string): { width: number; height: number } {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new Error('no such file');
  }
  if (!st.isFile()) throw new Error('not a regular file (a FIFO, device or folder)');
  let size: string;
  try {
    size = execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', ffmpegInput(file)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    ).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('video needs ffmpeg (apt-get install ffmpeg / brew install ffmpeg)');
    throw new Error('not a readable video');
  }
  const [width, height] = size.split('\n')[0].split(',').map(Number);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new Error('not a readable video (no video stream)');
  if (width * height > MAX_PIXELS) throw new Error(`video frames too large (${width}×${height}, over the 50-megapixel limit)`);
  return { width, height };
}

/** Frames of a video, `fps` per second, as RGB images. */
export async function* videoFrames(file: string, fps = 5): AsyncGenerator<RawImage> {
  const { width, height } = videoSize(file);
  const frameBytes = width * height * 3;
  const proc = spawn(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-i', ffmpegInput(file), '-vf', `fps=${fps}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0,
    frames = 0;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      // Each byte copied once into the frame being filled: linear in the stream's size.
      for (let off = 0; off < chunk.length;) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        chunk.copy(frame, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          frames++;
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
  if (frames === 0) throw new Error('no frame could be decoded (not a readable video)');
}

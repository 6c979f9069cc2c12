/**
 * Debian's headless Chromium through playwright-core, the one way tests and bench scripts start it: offline
 * (no background networking, updates or sync), optionally with a fake camera fed from a y4m video.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const OFFLINE = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const hasChromium = (): boolean => existsSync(CHROMIUM);

export const hasFfmpeg = (): boolean => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Writes `seconds` of 640×480 camera frames (10 fps, letterboxed) showing `image`, as a y4m Chromium can play. */
export function cameraVideo(image: string, y4m: string, seconds = 1, fps = 10): string {
  const fit = 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,format=yuv420p';
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', image, '-t', String(seconds), '-r', String(fps), '-vf', fit, y4m]);
  return y4m;
}

export interface LaunchOptions {
  /** A y4m video the page's getUserMedia camera plays (permission granted without a prompt). */
  camera?: string;
  /** 'off': no GPU (screenshots render the same everywhere); 'webgpu': offer WebGPU where it can; else Chromium's default. */
  gpu?: 'off' | 'webgpu';
}

export function launchChromium(o: LaunchOptions = {}): Promise<Browser> {
  const args = [
    ...OFFLINE,
    ...(o.gpu === 'off' ? ['--disable-gpu', '--disable-quic'] : o.gpu === 'webgpu' ? ['--enable-unsafe-webgpu'] : []),
  ];
  if (o.camera)
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${o.camera}`);
  return chromium.launch({ executablePath: CHROMIUM, args });
}

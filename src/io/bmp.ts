/**
 * Windows bitmaps (.bmp), which sharp's prebuilt libvips does not read: uncompressed 1-, 4-, 8-bit (palette), 16-,
 * 24- and 32-bit (BI_RGB or BI_BITFIELDS masks), bottom-up or top-down, every header version from OS/2's 12 bytes to
 * V5's 124. RLE-compressed and embedded JPEG/PNG bitmaps are refused with a message. Pixels come out as RGB, or RGBA
 * when a 32-bit bitmap has an alpha mask.
 */

/** A decoded bitmap: interleaved 8-bit channels, top row first. */
export interface Bitmap {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** Whether bytes start as a bitmap file does ("BM"). */
export const isBmp = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d;

/**
 * A channel's mask → its shift and the scale that takes its largest value to 255. Both scans stop at bit 31: a shift
 * count is taken mod 32 in JavaScript (`m >>> 32` is m), so a mask of all ones would otherwise never end its scan.
 */
function channel(mask: number): { shift: number; bits: number } {
  if (!mask) return { shift: 0, bits: 0 };
  let shift = 0;
  while (shift < 32 && ((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

const COMPRESSION = ['none', 'RLE8', 'RLE4', 'bitfields', 'JPEG', 'PNG', 'alpha bitfields'];

/** Decodes a .bmp file's bytes; throws a one-line Error for what it cannot read. `maxPixels` bounds width × height. */
export function decodeBmp(b: Uint8Array, maxPixels: number): Bitmap {
  if (!isBmp(b) || b.length < 26) throw new Error('not a BMP file');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  if (14 + headerSize > b.length) throw new Error('truncated BMP header');
  const core = headerSize === 12; // OS/2 BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries
  if (!core && headerSize < 40) throw new Error(`unsupported BMP header (${headerSize} bytes)`);
  const width = core ? v.getUint16(18, true) : v.getInt32(18, true);
  const rawHeight = core ? v.getUint16(20, true) : v.getInt32(22, true);
  const bpp = core ? v.getUint16(24, true) : v.getUint16(28, true);
  const compression = core ? 0 : v.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new Error('BMP with no pixels');
  if (width * height > maxPixels) throw new Error('Input image exceeds pixel limit');
  if (![0, 3, 6].includes(compression) || (compression !== 0 && bpp !== 16 && bpp !== 32))
    throw new Error(`unsupported BMP compression (${COMPRESSION[compression] ?? compression})`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`unsupported BMP bit depth (${bpp})`);

  // Bit masks: from the header (V2+ header or after a 40-byte one with bitfields), else 5-5-5 or 8-8-8.
  let masks: number[];
  if (compression === 0) masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0x00ff00, 0x0000ff, 0];
  else {
    const at = 14 + 40;
    const n = compression === 6 || headerSize >= 56 ? 4 : 3;
    if (at + 4 * n > b.length) throw new Error('truncated BMP header');
    masks = [0, 1, 2, 3].map((i) => (i < n ? v.getUint32(at + 4 * i, true) : 0));
  }
  // 32-bit BI_RGB: the fourth byte is padding unless a V3+ header gives an alpha mask (rarely set; not trusted).
  const alpha = bpp === 32 && compression !== 0 && masks[3] !== 0;
  const channels: 3 | 4 = alpha ? 4 : 3;

  // The palette (bpp ≤ 8): after the headers (and the 12 bytes of masks a 40-byte header puts after itself).
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const start = 14 + headerSize;
    const count = Math.min(!core && v.getUint32(46, true) ? v.getUint32(46, true) : 1 << bpp, 1 << bpp);
    if (start + count * entry > b.length) throw new Error('truncated BMP palette');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count; i++) {
      palette[3 * i] = b[start + i * entry + 2];
      palette[3 * i + 1] = b[start + i * entry + 1];
      palette[3 * i + 2] = b[start + i * entry];
    }
  }

  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (dataOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8) > b.length) throw new Error('truncated BMP pixel data');
  const out = new Uint8Array(width * height * channels);
  const ch = masks.map(channel);
  const scale = ch.map((c) => (c.bits ? 255 / (2 ** c.bits - 1) : 0));
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)];
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[3 * idx];
        out[o + 1] = palette[3 * idx + 1];
        out[o + 2] = palette[3 * idx + 2];
      } else if (bpp === 24) {
        const p = row + 3 * x;
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
      } else {
        const px = bpp === 16 ? v.getUint16(row + 2 * x, true) : v.getUint32(row + 4 * x, true);
        for (let c = 0; c < channels; c++) out[o + c] = ch[c].bits ? Math.round((((px & masks[c]) >>> 0) >>> ch[c].shift) * scale[c]) : 0;
      }
    }
  }
  return { data: out, width, height, channels };
}

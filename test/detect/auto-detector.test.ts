/** What `auto` resolves to: with dlib's native part, dlib+tiny (unchanged); without it (a plain install), SSD. */
import { describe, it, expect, vi } from 'vitest';

const dlib = vi.hoisted(() => ({ built: true }));
vi.mock('../../src/detect/dlib.js', async (original) => ({
  ...(await original<typeof import('../../src/detect/dlib.js')>()),
  loadDlib: () => (dlib.built ? {} : null),
  dlibUnavailable: () => (dlib.built ? undefined : 'fer was built without dlib'),
  dlibWithoutModel: () => undefined,
}));
const { resolveDetector } = await import('../../src/detect/faces.js');

describe('auto', () => {
  it("is SSD (its faces filtered by the face mesh) where dlib's native part is not built, said once", () => {
    dlib.built = false;
    const first = resolveDetector();
    expect(first.detector).toBe('ssd');
    expect(first.note).toMatch(/face detector: ssd; dlib unavailable/);
    expect(resolveDetector().note).toBeUndefined();
    expect(resolveDetector('tiny').detector).toBe('tiny');
  });

  it("is dlib+tiny where dlib's native part is built", () => {
    dlib.built = true;
    expect(resolveDetector('auto').detector).toBe('dlib+tiny');
  });
});

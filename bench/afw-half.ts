/** AFW's photos in two halves by the md5 of the annotation's `file` less its `_N.jpg` (`images/X_2.jpg` is `images/X_1.jpg` with another face annotated): the split bench/detect.ts and bench/dlib-boxes.ts report. */
import { createHash } from 'node:crypto';

export const halfOf = (name: string): number =>
  parseInt(
    createHash('md5')
      .update(name.replace(/_\d+\.\w+$/, ''))
      .digest('hex')
      .slice(-1),
    16,
  ) % 2;

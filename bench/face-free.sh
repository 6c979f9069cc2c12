#!/usr/bin/env bash
# Real photos without human faces for bench/detect.ts --face-free: scikit-image's sample images (a cat, coffee,
# a rocket, motorcycles, coins, textures, text, the moon…) from Debian's python3-skimage, unpacked into DIR
# without installing it. Photos that hold a face (astronaut, camera) are left out.
#   bash bench/face-free.sh DIR
set -euo pipefail
out=${1:?usage: face-free.sh DIR}
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1 && dpkg-deb -x python3-skimage_*.deb x)
mkdir -p "$out"
for f in "$tmp"/x/usr/lib/python3/dist-packages/skimage/data/*.{png,jpg}; do
  case "$(basename "$f")" in astronaut.png | camera.png) continue ;; esac
  cp "$f" "$out/"
done
rm -rf "$tmp"
ls "$out" | wc -l

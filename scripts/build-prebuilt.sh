#!/usr/bin/env bash
# Builds the prebuilt linux-x64 (glibc) native addon that the npm package ships in native/prebuilds/linux-x64/
# (run by `prepack`, so `npm pack`/`npm publish` and CI's check-package.sh build it; not committed: oneDNN alone
# is 40 MB). Needs Debian 12's libdnnl-dev, libdlib-dev (headers + libdlib.so for the build-time helper),
# ocl-icd-libopencl1, g++ and pkg-config — what .ci/run installs.
#
#   fer_native.node  the training engine (native/src/*.cc of binding.gyp's fer_native target) with RUNPATH $ORIGIN, beside
#                    libdnnl.so.2 (Debian's oneDNN 2.6.3: shared only, no static library or source on the mirror),
#                    libgomp.so.1 (its OpenMP runtime) and libOpenCL.so.1 (ocl-icd's loader: Debian's oneDNN is built
#                    with the OpenCL GPU runtime; fer only creates CPU engines, so it is loaded but never used).
#                    libOpenCL.so.1 is also a direct NEEDED of the addon so that the loader finds it through the
#                    addon's RUNPATH before it resolves libdnnl's own dependencies (libdnnl has no RUNPATH).
#   fer_dlib.node    dlib's HOG detector + 68-point shape predictor, header-only code compiled in with dlib's BLAS,
#                    LAPACK, PNG and JPEG off (FER_DLIB_PREBUILT in dlib_faces.cc) and the detector's weights
#                    embedded: no libdlib, libblas, liblapack, libgfortran, libpng or libjpeg at run time. The
#                    68-point model file is NOT shipped (iBUG 300-W, non-commercial): libdlib-data or FER_DLIB_LANDMARKS.
#   fer_dlib-avx2.node  the same compiled with -mavx2 -mfma (dlib's HOG filters 8 wide: ~1.26x less CPU per photo)
#                    and -ffp-contract=off (no fused multiply-adds: the same boxes and landmarks as fer_dlib.node);
#                    src/engine/native/locate.ts loads it where /proc/cpuinfo lists avx2 and fma.
#
# Skips the build when the outputs match the inputs (sources, this script, the Debian package versions).
# FER_PREBUILT=skip: build nothing (a pack for a machine without these libraries; the package then builds from
# source at install time as before). FER_PREBUILT_OUT: another output folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${FER_PREBUILT_OUT:-$repo/native/prebuilds/linux-x64}

if [ "${FER_PREBUILT:-}" = skip ]; then
  echo "build-prebuilt: FER_PREBUILT=skip, no prebuilt binaries"; exit 0
fi
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ] || ! getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
  echo "build-prebuilt: prebuilt binaries are built on linux-x64 (glibc) only; this is $(uname -s)-$(uname -m)" >&2
  exit 0
fi
for need in g++ pkg-config; do
  command -v "$need" >/dev/null || { echo "build-prebuilt: $need missing (apt-get install g++ pkg-config), or FER_PREBUILT=skip" >&2; exit 1; }
done
[ -f /usr/include/oneapi/dnnl/dnnl.hpp ] || { echo "build-prebuilt: libdnnl-dev missing, or FER_PREBUILT=skip" >&2; exit 1; }
pkg-config --exists dlib-1 || { echo "build-prebuilt: libdlib-dev missing, or FER_PREBUILT=skip" >&2; exit 1; }

node_bin=$(readlink -f "$(command -v node)")
node_inc=$(dirname "$(dirname "$node_bin")")/include/node
[ -f "$node_inc/node_api.h" ] || node_inc=$(ls -d "$HOME"/.cache/node-gyp/"$(node -p process.versions.node)"/include/node 2>/dev/null || true)
[ -f "$node_inc/node_api.h" ] || { echo "build-prebuilt: node_api.h not found (node's include/node)" >&2; exit 1; }
napi_inc=$(cd "$repo" && node -p "require('node:path').resolve(require('node-addon-api').include_dir)")

# The engine's sources: fer_native's first "sources" list in binding.gyp, so the prebuilt links what node-gyp builds
# (a source added there and not here left the prebuilt with an undefined symbol).
mapfile -t engine_src < <(awk '/"sources": \[/{n++} n==1{print} n==1 && /\]/{exit}' "$repo/native/binding.gyp" | grep -o 'src/[A-Za-z0-9_]*\.cc' | sed 's|^src/||')
[ "${#engine_src[@]}" -ge 4 ] || { echo "build-prebuilt: no engine sources found in native/binding.gyp" >&2; exit 1; }
stamp=$( {
  cat "$0"
  for f in "${engine_src[@]}" kernels.h dlib_faces.cc dlib_faces.h dlib_detector_dump.cc; do cat "$repo/native/src/$f"; done
  dpkg-query -W -f '${Package} ${Version}\n' libdnnl2 libdnnl-dev ocl-icd-libopencl1 libgomp1 libdlib-dev g++ 2>/dev/null || true
  node -p 'process.versions.napi'
} | sha256sum | cut -c1-16)
if [ -f "$out/BUILD-STAMP" ] && [ "$(cat "$out/BUILD-STAMP")" = "$stamp" ] && [ -f "$out/fer_native.node" ] && [ -f "$out/fer_dlib.node" ] && [ -f "$out/fer_dlib-avx2.node" ]; then
  echo "build-prebuilt: $out is up to date ($stamp)"; exit 0
fi

build=$(mktemp -d "${TMPDIR:-/tmp}/fer-prebuilt.XXXXXX")
trap 'rm -rf "$build"' EXIT
start=$(date +%s)
common=(-std=c++17 -O3 -fPIC -fexceptions -fvisibility=hidden -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -I"$node_inc" -I"$napi_inc")
printf '{\n  global: napi_register_module_v1; node_api_module_get_api_version_v1;\n  local: *;\n};\n' > "$build/exports.map"

# dlib's detector weights, decoded once here (the helper links Debian's libdlib.so), embedded in fer_dlib.node.
g++ -std=c++17 -O1 -DDLIB_NO_GUI_SUPPORT "$repo/native/src/dlib_detector_dump.cc" -o "$build/dlib_detector_dump" $(pkg-config --libs dlib-1)
"$build/dlib_detector_dump" > "$build/frontal_faces.dat"
cat > "$build/frontal_faces.S" <<EOF
  .section .rodata
  .balign 16
  .globl fer_frontal_faces_start
  .globl fer_frontal_faces_end
fer_frontal_faces_start:
  .incbin "$build/frontal_faces.dat"
fer_frontal_faces_end:
  .section .note.GNU-stack,"",@progbits
EOF
gcc -c "$build/frontal_faces.S" -o "$build/frontal_faces.o"

# Two lanes (the machines this runs on have two cores): dlib's translation unit twice (baseline x86-64, then
# AVX2+FMA), and the engine's four.
dlib_flags=("${common[@]}" -DDLIB_NO_GUI_SUPPORT -DFER_DLIB_PREBUILT)
{ g++ "${dlib_flags[@]}" -c "$repo/native/src/dlib_faces.cc" -o "$build/dlib_faces.o" \
  && g++ "${dlib_flags[@]}" -mavx2 -mfma -ffp-contract=off -c "$repo/native/src/dlib_faces.cc" -o "$build/dlib_faces-avx2.o"; } &
dlib_job=$!
for f in "${engine_src[@]}"; do
  g++ "${common[@]}" -fopenmp -ffp-contract=off -Wno-psabi -c "$repo/native/src/$f" -o "$build/${f%.cc}.o"
done
wait "$dlib_job"

objs=(); for f in "${engine_src[@]}"; do objs+=("$build/${f%.cc}.o"); done
g++ -shared -fopenmp -o "$build/fer_native.node" "${objs[@]}" -s \
  -Wl,--version-script="$build/exports.map" -Wl,-rpath,'$ORIGIN' -Wl,--enable-new-dtags \
  -ldnnl -Wl,--push-state,--no-as-needed -l:libOpenCL.so.1 -Wl,--pop-state
for v in fer_dlib:dlib_faces fer_dlib-avx2:dlib_faces-avx2; do
  g++ -shared -pthread -o "$build/${v%%:*}.node" "$build/${v#*:}.o" "$build/frontal_faces.o" -s \
    -Wl,--version-script="$build/exports.map" -Wl,--as-needed
done
echo "build-prebuilt: compiled in $(( $(date +%s) - start )) s"

# What it links must be what we ship (or libc/libstdc++/libm/libgcc_s), and dlib must need nothing of dlib's.
needed() { objdump -p "$1" | awk '/NEEDED/ {print $2}'; }
for lib in libdnnl.so.2 libgomp.so.1 libOpenCL.so.1; do
  needed "$build/fer_native.node" | grep -qx "$lib" || { echo "build-prebuilt: fer_native.node does not need $lib" >&2; exit 1; }
done
for d in fer_dlib fer_dlib-avx2; do
  if needed "$build/$d.node" | grep -v -E '^(libstdc\+\+\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libc\.so\.6|ld-linux-x86-64\.so\.2)$'; then
    echo "build-prebuilt: $d.node needs a library above that is not shipped" >&2; exit 1
  fi
  if nm -D --undefined-only "$build/$d.node" | grep -E 'dlib|cblas|_dgesvd|png_|jpeg_'; then
    echo "build-prebuilt: $d.node has undefined dlib/BLAS/PNG/JPEG symbols (above)" >&2; exit 1
  fi
done

rm -rf "$out.tmp" && mkdir -p "$out.tmp/licenses"
cp "$build/fer_native.node" "$build/fer_dlib.node" "$build/fer_dlib-avx2.node" "$out.tmp/"
ldd "$build/fer_native.node" | awk '$1 ~ /^(libdnnl\.so\.2|libgomp\.so\.1|libOpenCL\.so\.1)$/ {print $3}' | while read -r lib; do
  cp -L "$lib" "$out.tmp/"
done
[ -f "$out.tmp/libdnnl.so.2" ] && [ -f "$out.tmp/libgomp.so.1" ] && [ -f "$out.tmp/libOpenCL.so.1" ] \
  || { echo "build-prebuilt: could not find the system libraries to bundle" >&2; exit 1; }
cp /usr/share/doc/libdnnl2/copyright "$out.tmp/licenses/oneDNN"
cp /usr/share/doc/libgomp1/copyright "$out.tmp/licenses/libgomp"
cp /usr/share/doc/ocl-icd-libopencl1/copyright "$out.tmp/licenses/ocl-icd"
cp /usr/share/doc/libdlib-dev/copyright "$out.tmp/licenses/dlib"
floor=$(objdump -T "$out.tmp"/*.node "$out.tmp"/*.so.* | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
cxxfloor=$(objdump -T "$out.tmp"/*.node "$out.tmp"/*.so.* | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
# The floor fer promises (locate.ts PREBUILT_GLIBC, checked at install and at load) must hold for every binary.
promised=GLIBC_$(sed -n "s/^export const PREBUILT_GLIBC = '\([0-9.]*\)';/\1/p" "$repo/src/engine/native/locate.ts")
if [ "$(printf '%s\n' "$promised" "$floor" | sort -V | tail -1)" != "$promised" ]; then
  objdump -T "$out.tmp"/*.node "$out.tmp"/*.so.* | grep -F "$floor" >&2
  echo "build-prebuilt: the binaries need $floor (above), over the $promised that fer promises (src/engine/native/locate.ts)" >&2
  exit 1
fi
cat > "$out.tmp/README" <<EOF
fer's prebuilt native addon for linux-x64 (glibc), built by scripts/build-prebuilt.sh on
$(. /etc/os-release && echo "$PRETTY_NAME") with $(g++ --version | head -1).
Needs ${floor} and ${cxxfloor} (libstdc++ of GCC 11+): Debian 12, Ubuntu 22.04, RHEL 9 or newer.
fer_native.node: fer's training kernels on oneDNN $(dpkg-query -W -f '${Version}' libdnnl2) (CPU only), RUNPATH \$ORIGIN.
libdnnl.so.2 (Apache-2.0), libgomp.so.1 (GPL-3 with the GCC Runtime Library Exception), libOpenCL.so.1 (ocl-icd,
BSD-2-Clause): Debian's, copied unchanged; their copyright files are in licenses/.
fer_dlib.node: dlib $(dpkg-query -W -f '${Version}' libdlib-dev) (Boost Software License) HOG face detector and shape-predictor code;
fer_dlib-avx2.node: the same built for CPUs with AVX2 and FMA (loaded where /proc/cpuinfo lists both).
The 68-point landmark model is not included (iBUG 300-W: non-commercial use only).
EOF
echo "$stamp" > "$out.tmp/BUILD-STAMP"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "build-prebuilt: $out: $(du -sh "$out" | cut -f1), needs $floor / $cxxfloor"

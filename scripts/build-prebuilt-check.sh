# Sourced by scripts/check-package.sh (cwd: the consumer project, $repo: the checkout). The prebuilt linux-x64
# native addon as a machine with only Node and npm gets it:
#   bare CMD...   runs CMD in a private mount namespace (unshare -m, root) where Debian's oneDNN, libgomp, ocl-icd
#                 and dlib libraries and the compilers are /dev/null and oneDNN's and dlib's headers an empty folder;
#                 elsewhere (no unshare or not root) it runs CMD as is and the ldd/LD_DEBUG checks still hold
#   native_check  the installed addon resolves oneDNN, libgomp and libOpenCL from the package (ldd, and an
#                 LD_DEBUG=libs trace of a 1-epoch `fer train` that must report `backend fer-native`), dlib's part
#                 needs no libdlib and finds faces; prints the glibc floor
hide_files=$(
  for lib in libdnnl.so.2 libgomp.so.1 libOpenCL.so.1 libdlib.so.19.1 libdlib.so; do
    for d in /usr/lib/x86_64-linux-gnu /usr/local/lib; do [ -e "$d/$lib" ] && readlink -f "$d/$lib"; done
  done
  for cmd in g++ gcc c++ cc clang++ make; do p=$(command -v "$cmd") && readlink -f "$p"; done
  true
)
hide_files=$(echo "$hide_files" | sort -u | tr '\n' ' ')
hide_dirs=$(for d in /usr/include/oneapi /usr/include/dlib; do [ -d "$d" ] && echo "$d"; done | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  bare_mode="oneDNN, libgomp, ocl-icd, dlib, their headers and the compilers hidden"
  bare() {
    HIDE_FILES="$hide_files" HIDE_DIRS="$hide_dirs" unshare -m bash -c '
      set -e
      for f in $HIDE_FILES; do mount --bind /dev/null "$f"; done
      for d in $HIDE_DIRS; do mount -t tmpfs -o size=1m none "$d"; done
      exec "$@"' bare "$@"
  }
else
  bare_mode="system libraries NOT hidden (needs root and unshare); ldd and LD_DEBUG still checked"
  bare() { "$@"; }
fi

native_check() {
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "check-package: no prebuilt native addon for $(uname -s)-$(uname -m); native checks skipped"; return 0
  fi
  local pkg pre
  pkg=$PWD/node_modules/$(node -p "require('$repo/package.json').name")
  pre=$(realpath "$pkg/native/prebuilds/linux-x64")
  [ -f "$pre/fer_native.node" ] && [ -f "$pre/fer_dlib.node" ] && [ -f "$pre/fer_dlib-avx2.node" ] || { echo "check-package: the tarball has no prebuilt addon" >&2; return 1; }
  [ ! -e "$pkg/native/build" ] || { echo "check-package: the install compiled the addon although a prebuilt fits" >&2; return 1; }
  echo "check-package: prebuilt addon $(du -sh "$pre" | cut -f1) installed ($bare_mode)"
  bare ldd "$pre/fer_native.node" > ldd.out
  sed 's/ (0x[0-9a-f]*)//' ldd.out | sed 's/^/  ldd fer_native.node: /'
  for lib in libdnnl.so.2 libgomp.so.1 libOpenCL.so.1; do
    local at
    at=$(awk -v l="$lib" '$1 == l { print $3 }' ldd.out)
    [ -n "$at" ] && [ "$(dirname "$(realpath "$at")")" = "$pre" ] \
      || { echo "check-package: fer_native.node resolves $lib to '${at:-nothing}', not the package's $pre" >&2; return 1; }
  done
  if grep -q 'not found' ldd.out; then echo "check-package: fer_native.node has unresolved libraries" >&2; return 1; fi
  for d in fer_dlib fer_dlib-avx2; do
    bare ldd "$pre/$d.node" > ldd-dlib.out
    if grep -E 'not found|libdlib|libblas|liblapack' ldd-dlib.out; then echo "check-package: $d.node needs the above" >&2; return 1; fi
  done
  if command -v objdump >/dev/null; then
    echo "check-package: prebuilt glibc floor $(objdump -T "$pre"/*.node "$pre"/*.so.* | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)," \
      "$(objdump -T "$pre"/*.node "$pre"/*.so.* | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)"
  fi
  # A 1-epoch train on the installed CLI, its dynamic loader traced: oneDNN is initialised from the package.
  mkdir -p ld-trace
  bare env LD_DEBUG=libs LD_DEBUG_OUTPUT="$PWD/ld-trace/ld" FER_BACKEND=auto npx --no-install fer train \
    --data "$pkg/fixtures/fer-mini/val" --epochs 1 --batch-size 35 --out "$PWD/native-run" > train.out 2>&1 \
    || { cat train.out >&2; return 1; }
  grep -m1 -o 'backend [a-z-]*[^;,]*' train.out | sed 's/^/check-package: installed fer train: /'
  grep -q 'backend fer-native' train.out || { echo "check-package: fer train did not use fer-native:" >&2; cat train.out >&2; return 1; }
  local inits
  inits=$(cat ld-trace/ld.* | grep -o 'calling init: .*\(libdnnl\|libgomp\|libOpenCL\)[^ ]*' | sort -u)
  echo "$inits" | sed 's/^/  LD_DEBUG: /'
  [ "$(echo "$inits" | grep -c "calling init: $pre/")" = 3 ] && ! echo "$inits" | grep -v -q "calling init: $pre/" \
    || { echo "check-package: oneDNN/libgomp/libOpenCL were not all loaded from $pre" >&2; return 1; }
  # dlib's detector from the prebuilt part (the 68-point model where libdlib-data is installed, else face-api's).
  bare npx --no-install fer predict "$pkg/fixtures/scenes/two-faces.jpg" --detector dlib --json > dlib.out 2> dlib.err \
    || { cat dlib.err >&2; return 1; }
  [ "$(grep -o '"emotion"' dlib.out | wc -l)" = 2 ] || { echo "check-package: dlib did not find the 2 faces" >&2; cat dlib.out dlib.err >&2; return 1; }
  echo "check-package: prebuilt dlib detector found 2 faces"
}

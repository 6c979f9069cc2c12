"""Fit and score for bench/dlib-boxes.ts (issue 32, h32n).

  python3 bench/dlib-boxes-fit.py RECORDS.json [FIT_OUT.json]

Fits dlib's HOG box (side, centre) from the people-placed 68 points on half A's faces that the HOG scan found at
score >= 0 (least squares; see dlib-boxes.ts fitBox), writes it to FIT_OUT, then prints NME (mean point error over
the outer-eye-corner distance, points 36 and 45) of every reading in the records, by half and by the source of
fer's face (dlib's scans, the second look's mean of dlib's and the mesh's, the mesh on the faces tiny adds).
"""
import json
import sys

import numpy as np

data = json.load(open(sys.argv[1]))
recs = data["records"]


def arr(p):
    return np.array([[q["x"], q["y"]] for q in p])


def nme(truth, pts):
    t, p = arr(truth), arr(pts)
    return np.linalg.norm(t - p, axis=1).mean() / np.linalg.norm(t[36] - t[45])


def feats(p):
    p = arr(p)
    x, y = p.min(0)
    w, h = p.max(0) - p.min(0)
    mx, my = p.mean(0)
    eyes = (p[36, 0] + p[45, 0]) / 2
    yaw = (p[30, 0] - eyes) / np.linalg.norm(p[45] - p[36])
    return w, h, mx, my, yaw


if len(sys.argv) > 2:
    rows = [r for r in recs if r["half"] == "A" and "hog" in r and r["hog"]["score"] >= 0]
    S, CX, CY = [], [], []
    for r in rows:
        w, h, mx, my, yaw = feats(r["truth"])
        b = r["hog"]["box"]
        S.append(([w, h], b["width"]))
        CX.append(([w, h, w * yaw], b["x"] + b["width"] / 2 - mx))
        CY.append(([w, h], b["y"] + b["height"] / 2 - my))
    fit = {}
    for key, D in (("a", S), ("b", CX), ("c", CY)):
        X = np.array([d[0] for d in D])
        y = np.array([d[1] for d in D])
        c, *_ = np.linalg.lstsq(X, y, rcond=None)
        res = y - X @ c
        print(f"{key}: {c.round(4).tolist()} residual rms {np.sqrt((res ** 2).mean()):.2f} px (n={len(y)})")
        fit[key] = c[:2].tolist()
        if key == "b":
            fit["yaw"] = float(c[2])
    json.dump(fit, open(sys.argv[2], "w"))

variants = ["auto", "reread", "autoMirror", "dlibOnAuto", "dlibOnAutoAvg", "meshOnAuto", "hog", "hogAvg", "dlibOnTruthBox", "rebox1",
            "rebox2", "dlibOnMeshBox"]


def mean_pts(a, b, w=0.5):
    return [{"x": (1 - w) * p["x"] + w * q["x"], "y": (1 - w) * p["y"] + w * q["y"]} for p, q in zip(a, b)]


def raw(r, v):
    x = r.get(v)
    if x is None:
        return None
    return x["pts"] if isinstance(x, dict) else x


def pts(r, v):
    """A reading; the ...Avg ones: the mean with its mirror image; autoMirror: fer's points with dlib's mirrored too."""
    if v == "dlibOnAutoAvg":
        a, m = raw(r, "dlibOnAuto"), raw(r, "dlibOnAutoMirror")
        return None if a is None or m is None else mean_pts(a, m)
    if v == "hogAvg":
        a, m = raw(r, "hog"), raw(r, "hogMirror")
        return None if a is None or m is None else mean_pts(a, m)
    if v == "autoMirror":
        if "auto" not in r:
            return None
        src = r["auto"]["src"]
        if src == "dlib":
            return pts(r, "dlibOnAutoAvg")
        if src == "mean":
            return mean_pts(pts(r, "dlibOnAutoAvg"), r["meshOnAuto"])
        return r["auto"]["pts"]
    return raw(r, v)


def table(sel, label):
    common = [r for r in sel if all(pts(r, v) is not None for v in ("auto", "hog"))]
    print(f"\n{label}: {len(sel)} faces, {sum(1 for r in sel if 'auto' in r)} found by auto, {len(common)} also by HOG")
    for v in variants:
        on_all = [nme(r["truth"], pts(r, v)) for r in sel if pts(r, v) is not None]
        on_common = [nme(r["truth"], pts(r, v)) for r in common if pts(r, v) is not None]
        if on_all:
            print(f"  {v:16s} all-found {100 * np.mean(on_all):.2f}% (n={len(on_all)}, median {100 * np.median(on_all):.2f}%)"
                  f"   on common {100 * np.mean(on_common):.2f}% (n={len(on_common)})")


for half in ("A", "B", None):
    sel = [r for r in recs if half is None or r["half"] == half]
    table(sel, f"half {half or 'all'}")
    for src in ("dlib", "mean", "mesh"):
        s = [r for r in sel if "auto" in r and r["auto"]["src"] == src]
        if s:
            print(f"    src={src}: n={len(s)} " + " ".join(
                f"{v}={100 * np.mean([nme(r['truth'], pts(r, v)) for r in s if pts(r, v) is not None]):.2f}%"
                for v in variants if any(pts(r, v) is not None for r in s)))

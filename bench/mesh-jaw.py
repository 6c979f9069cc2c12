#!/usr/bin/env python3
"""Where the face mesh's jaw points lose against 300-W's human-placed ones (issue 32, the no-dlib NME).

   npx tsx bench/fit-mesh-map.ts --k 16 --cache /tmp/mesh468.json   # the mesh's 468 points on each AFW face SSD finds
   /usr/bin/python3 bench/mesh-jaw.py /tmp/mesh468.json               # numpy

Refits the mesh → 68 map as bench/fit-mesh-map.ts does (K = 16 nearest mesh points in the outer-eye frame, weights
plus yaw-times-weights, here with free intercepts and a small ridge), two-fold over the photos (sorted by name, even
and odd places), then for the jaw (points 0-16) prints:
- the error split into its radial part (towards/away from the mesh's centroid) and its tangential part (along the
  outline), and the NME by |yaw|;
- "snapped": each mapped jaw point moved along its ray from the centroid by a per-point linear blend (fitted on the
  other half) of the mapped radius and the radius where the ray leaves the convex hull of the mesh's projected
  points (the face's visible outline on a turned face).
"""
import json
import sys

import numpy as np

S = json.load(open(sys.argv[1] if len(sys.argv) > 1 else '/tmp/mesh468.json'))
files = sorted(set(s['file'] for s in S))
half_of = {f: i % 2 for i, f in enumerate(files)}
T = np.array([[[p['x'], p['y']] for p in s['truth']] for s in S])
M = np.array([[[p['x'], p['y'], p['z']] for p in s['mesh']] for s in S])
H = np.array([half_of[s['file']] for s in S])
N = len(S)
ED = np.linalg.norm(T[:, 36] - T[:, 45], axis=1)
A, B = 33, 263  # the mesh's outer eye corners (src/detect/mesh.ts MESH_EYE_CORNERS)
YAW = np.array([(m[234, 2] - m[454, 2]) / np.linalg.norm(m[A, :2] - m[B, :2]) for m in M])


def to_eye(m, pts):
    a, d = m[A, :2], m[B, :2] - m[A, :2]
    q = pts - a
    return np.stack([(q[:, 0] * d[0] + q[:, 1] * d[1]), (-q[:, 0] * d[1] + q[:, 1] * d[0])], 1) / (d @ d)


def from_eye(m, e):
    a, d = m[A, :2], m[B, :2] - m[A, :2]
    return a + np.outer(e[:, 0], d) + np.outer(e[:, 1], [-d[1], d[0]])


ME = np.array([to_eye(m, m[:, :2]) for m in M])
TE = np.array([to_eye(M[i], T[i]) for i in range(N)])


def fit(tr, K=16, ridge=1e-5):
    mean_m, mean_t, n, rows = ME[tr].mean(0), TE[tr].mean(0), tr.sum(), []
    for j in range(68):
        idx = np.argsort(np.linalg.norm(mean_m - mean_t[j], axis=1))[:K]
        X = [np.concatenate([ME[tr][:, idx, c], ME[tr][:, idx, c] * YAW[tr, None]], 1) for c in (0, 1)]
        ones = np.c_[np.ones(n), YAW[tr]]
        Xs = np.concatenate([np.r_[X[0], X[1]], np.r_[ones, 0 * ones], np.r_[0 * ones, ones]], 1)
        ys = np.r_[TE[tr][:, j, 0], TE[tr][:, j, 1]]
        rows.append((idx, np.linalg.solve(Xs.T @ Xs + ridge * n * np.eye(Xs.shape[1]), Xs.T @ ys)))
    return rows


def apply(rows, sel):
    out = np.zeros((sel.sum(), 68, 2))
    for j, (idx, w) in enumerate(rows):
        K = len(idx)
        for c in (0, 1):
            X = np.concatenate([ME[sel][:, idx, c], ME[sel][:, idx, c] * YAW[sel, None]], 1)
            out[:, j, c] = X @ w[: 2 * K] + w[2 * K + 2 * c] + w[2 * K + 2 * c + 1] * YAW[sel]
    return np.array([from_eye(M[i], e) for i, e in zip(np.where(sel)[0], out)])


def hull(P):
    P = sorted(map(tuple, P))
    cross = lambda o, a, b: (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    lo, up = [], []
    for seq, h in ((P, lo), (P[::-1], up)):
        for p in seq:
            while len(h) >= 2 and cross(h[-2], h[-1], p) <= 0:
                h.pop()
            h.append(p)
    return np.array(lo[:-1] + up[:-1])


def leave(c, d, poly):
    """Largest t > 0 with c + t·d on the polygon's boundary."""
    best = 0.0
    for i in range(len(poly)):
        a, e = poly[i], poly[(i + 1) % len(poly)] - poly[i]
        den = d[0] * -e[1] + d[1] * e[0]
        if abs(den) < 1e-12:
            continue
        q = a - c
        t, s = (q[0] * -e[1] + q[1] * e[0]) / den, (d[0] * q[1] - d[1] * q[0]) / den
        if t > 0 and -1e-9 <= s <= 1 + 1e-9:
            best = max(best, t)
    return best


def rays(P, sel):
    """Per face and jaw point: centroid, unit ray, mapped radius, hull radius (all over the eye distance but c, d)."""
    out = []
    for k, i in enumerate(np.where(sel)[0]):
        poly, c = hull(M[i, :, :2]), M[i, :, :2].mean(0)
        row = []
        for j in range(17):
            v = P[k, j] - c
            r = np.linalg.norm(v)
            row.append((c, v / r, r, leave(c, v / r, poly) or r))
        out.append(row)
    return out


err, rad, tan, snapped, yaws = [], [], [], [], []
for h in (0, 1):
    tr, te = H != h, H == h
    rows = fit(tr)
    P_tr, P_te = apply(rows, tr), apply(rows, te)
    R_tr, R_te = rays(P_tr, tr), rays(P_te, te)
    i_tr, i_te = np.where(tr)[0], np.where(te)[0]
    for k, i in enumerate(i_te):
        yaws.append(abs(YAW[i]))
        e = T[i, :17] - P_te[k, :17]
        err.append(np.linalg.norm(e, axis=1) / ED[i])
        d = np.array([R_te[k][j][1] for j in range(17)])
        rad.append(np.abs((e * d).sum(1)) / ED[i])
        tan.append(np.abs(e[:, 0] * -d[:, 1] + e[:, 1] * d[:, 0]) / ED[i])
    snap = np.zeros((len(i_te), 17))
    for j in range(17):
        X = np.array([[R_tr[k][j][2] / ED[i], R_tr[k][j][3] / ED[i], 1] for k, i in enumerate(i_tr)])
        y = np.array([((T[i, j] - R_tr[k][j][0]) @ R_tr[k][j][1]) / ED[i] for k, i in enumerate(i_tr)])
        w = np.linalg.lstsq(X, y, rcond=None)[0]
        for k, i in enumerate(i_te):
            c, d, r, t = R_te[k][j]
            snap[k, j] = np.linalg.norm(c + (np.array([r / ED[i], t / ED[i], 1]) @ w) * ED[i] * d - T[i, j]) / ED[i]
    snapped.append(snap)
err, rad, tan, snapped, yaws = map(np.array, (err, rad, tan, np.concatenate(snapped), yaws))
print(f'{N} faces, two-fold. Jaw NME {100 * err.mean():.2f}%: radial {100 * rad.mean():.2f}%, tangential {100 * tan.mean():.2f}%')
print(f'snapped to the mesh outline along the ray: {100 * snapped.mean():.2f}%')
for lo, hi in ((0, 0.2), (0.2, 0.4), (0.4, 0.7), (0.7, 9)):
    s = (yaws >= lo) & (yaws < hi)
    print(f'|yaw| {lo}-{hi}: {s.sum()} faces, jaw NME {100 * err[s].mean():.2f}%')

#!/usr/bin/env python3
"""Markdown for the model card and BENCHMARKS.md from a shipped run's eval/export outputs.
Usage: scripts/ship-summary.py RUN_DIR [NAME]"""
import gzip, json, os, sys

run = sys.argv[1] if len(sys.argv) > 1 else 'runs/long'
name = sys.argv[2] if len(sys.argv) > 2 else 'fer-mini-xception'
load = lambda f: json.load(open(os.path.join(run, f)))
pct = lambda v: f'{100 * v:.2f}%'
plain, flip, ten = load('eval.json'), load('eval-tta.json'), load('eval-tencrop.json')
print('| model | PublicTest (val) accuracy |\n|---|---|')
print(f"| tfjs, fer-native (`--tta none`) | {pct(plain['accuracy'])} (macro-F1 {pct(plain['macroF1'])}) |")
print(f"| tfjs, flip (`--tta flip`, fer eval's default) | {pct(flip['accuracy'])} |")
print(f"| tfjs, ten crops (`--tta tencrop`) | {pct(ten['accuracy'])} |")
for p in ['fp32', 'fp16', 'int8']:
    print(f"| ONNX {p} (`--tta none`) | {pct(load(f'eval-onnx-{p}.json')['accuracy'])} |")
print('\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|')
for c in plain['perClass']:
    print(f"| {c['name']} | {100 * c['precision']:.1f} | {100 * c['recall']:.1f} | {100 * c['f1']:.1f} | {c['support']} |")
print('\n| precision | file | gzipped | verification vs tfjs (512 training images) |\n|---|---|---|---|')
for p in ['fp32', 'fp16', 'int8']:
    f = f'models/onnx/{name}.{p}.onnx'
    raw = open(f, 'rb').read()
    ver = [l.strip() for l in open(os.path.join(run, f'export-{p}.txt')) if l.startswith('verify')]
    v = ver[0][len('verify: '):].replace('|', '\\|') if ver else ''
    print(f"| {p} | {len(raw):,} B | {len(gzip.compress(raw, 9)):,} B | {v} |")
ms = [json.loads(l) for l in open(os.path.join(run, 'metrics.jsonl'))]
best = max(ms, key=lambda m: m['valAcc'])
print(f"\nepochs {len(ms)}, best epoch {best['epoch']} (val {pct(best['valAcc'])}), training time {sum(m['seconds'] for m in ms) / 60:.0f} min, "
      f"mean {sum(m['imagesPerSecond'] for m in ms) / len(ms):.0f} img/s")

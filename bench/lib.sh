# Shared by the bench shell scripts (source it from the repository root).
fer() { ./bin/fer "$@"; }
# Val accuracy in percent, two decimals: val_accuracy MODEL DATA TTA [more fer eval options…]
val_accuracy() {
  local model=$1 data=$2 tta=$3
  shift 3
  fer eval --model "$model" --data "$data" --tta "$tta" --json "$@" 2>/dev/null |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log((JSON.parse(s).accuracy*100).toFixed(2)))"
}
# Accuracy and balanced accuracy (mean per-class recall over the classes present) in percent: val_metrics MODEL DATA TTA [options…]
val_metrics() {
  local model=$1 data=$2 tta=$3
  shift 3
  fer eval --model "$model" --data "$data" --tta "$tta" --json "$@" 2>/dev/null |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s),p=r.perClass.filter(c=>c.support>0);console.log((r.accuracy*100).toFixed(2)+' '+(p.reduce((a,c)=>a+c.recall,0)/p.length*100).toFixed(2))})"
}

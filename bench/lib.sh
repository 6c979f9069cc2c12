# Shared by the bench shell scripts (source it from the repository root).
fer() { ./bin/fer "$@"; }
# Val accuracy in percent, two decimals: val_accuracy MODEL DATA TTA [more fer eval options…]
val_accuracy() {
  local model=$1 data=$2 tta=$3
  shift 3
  fer eval --model "$model" --data "$data" --tta "$tta" --json "$@" 2>/dev/null |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log((JSON.parse(s).accuracy*100).toFixed(2)))"
}

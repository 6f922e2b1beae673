#!/usr/bin/env bash
# Training and inference throughput and peak memory of ResNet-8 and ResNet-20: lsq4j (stock DL4J layers,
# LSQ layers with quantization off, LSQ 4-bit) beside PyTorch (float, LSQ 4-bit from the paper's
# pseudocode), one process per row, one after the other; then one table per network with the ratios.
# Run from samples/ after `mvn -B -q install -DskipTests` at the top: bash bench/resnet-bench.sh
# Options: DEPTHS="8 20" REPS=20. PyTorch rows need Debian's python3-torch (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."
DEPTHS=${DEPTHS:-"8 20"}
REPS=${REPS:-20}
mvn -B -q compile
mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath
classpath="target/classes:$(cat target/bench.classpath)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for depth in $DEPTHS; do
  for variant in stock off lsq4; do
    java -cp "$classpath" io.github.lsq4j.samples.bench.ResNetBenchmark --depth "$depth" --variant "$variant" \
      --reps "$REPS" 2>/dev/null | grep '^RESULT' | tee -a "$results"
  done
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    for variant in float lsq4; do
      /usr/bin/python3 bench/resnet_bench.py --depth "$depth" --variant "$variant" --reps "$REPS" | tee -a "$results"
    done
  else
    echo "python3-torch is not installed: no PyTorch rows (apt-get install python3-torch)" >&2
  fi
done
python3 bench/resnet_table.py < "$results"

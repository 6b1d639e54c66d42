#!/bin/sh
# run.sh BUILD OUT - `make quality`: every data set trained and sampled with the CLI's defaults
# (ncsn train DATA -o MODEL; ncsn sample MODEL -n N), then measured by quality/quality.c; prints
# the Markdown table (docs/quality.md) and draws OUT/digits.png. The real data come from Debian
# packages and are exported as a user would: R's write.csv (row names in column 1, a text column
# in iris) and sklearn's digits.csv.gz; each also in a standardised copy.
set -u
B=$1; OUT=$2
Q="$B/quality"; N="$B/ncsn"
mkdir -p "$OUT"
DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz

now() { date +%s.%N; }
# one row: NAME TRAIN_CSV EVAL_CSV N_SAMPLES [train options...]
row() {
  name=$1; train=$2; eval=$3; ns=$4; shift 4
  t0=$(now)
  if ! "$N" train "$train" -o "$OUT/$name.model" -q --checkpoint-every 0 "$@" 2> "$OUT/$name.train.log"; then
    echo "| $name | training failed: $(tail -n 1 "$OUT/$name.train.log") |"; return; fi
  t1=$(now)
  "$N" sample "$OUT/$name.model" -n "$ns" -q > "$OUT/$name.samples.csv" 2> "$OUT/$name.sample.log"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "| $name | sampling failed (exit $rc): $(tail -n 1 "$OUT/$name.sample.log") |"; return; fi
  "$Q" eval "$name" "$eval" "$OUT/$name.samples.csv" "$OUT/$name.model" "$ns" "$(echo "$t1 - $t0" | bc)"
}

# the real data, as R and sklearn ship them
Rscript -e "write.csv(faithful, '$OUT/faithful.csv'); write.csv(scale(faithful), '$OUT/faithful_std.csv')" \
        -e "write.csv(faithful, '$OUT/faithful_num.csv', row.names = FALSE); write.csv(scale(faithful), '$OUT/faithful_std_num.csv', row.names = FALSE)" \
        -e "x <- iris; x[1:4] <- scale(iris[1:4]); write.csv(iris, '$OUT/iris.csv'); write.csv(x, '$OUT/iris_std.csv')" \
        -e "write.csv(iris[1:4], '$OUT/iris_num.csv', row.names = FALSE); write.csv(x[1:4], '$OUT/iris_std_num.csv', row.names = FALSE)" \
        -e "d <- read.csv(gzfile('$DIGITS'), header = FALSE)[, 1:64]; s <- scale(d); s[is.na(s)] <- 0" \
        -e "write.csv(s, '$OUT/digits_std.csv', row.names = FALSE)" || exit 1
zcat "$DIGITS" > "$OUT/digits.csv" && cut -d, -f1-64 "$OUT/digits.csv" > "$OUT/digits_num.csv" || exit 1

"$Q" header
for s in two_gaussians swiss_roll toy ring8 aniso3; do
  "$Q" gen $s "$OUT/$s.csv" || exit 1
  row $s "$OUT/$s.csv" "$OUT/$s.csv" 2000
done
row real:faithful "$OUT/faithful.csv" "$OUT/faithful_num.csv" 272 --columns eruptions,waiting
row real:faithful_std "$OUT/faithful_std.csv" "$OUT/faithful_std_num.csv" 272 --columns 2-3
row real:iris "$OUT/iris.csv" "$OUT/iris_num.csv" 150 --columns 2-5
row real:iris_std "$OUT/iris_std.csv" "$OUT/iris_std_num.csv" 150 --columns Sepal.Length,Sepal.Width,Petal.Length,Petal.Width
row real:digits "$OUT/digits.csv" "$OUT/digits_num.csv" 1797 --columns 1-64
row real:digits_std "$OUT/digits_std.csv" "$OUT/digits_std.csv" 1797
"$Q" grid "$OUT/real:digits.samples.csv" "$OUT/digits_grid.dat" && \
  gnuplot -e "data='$OUT/digits_grid.dat'; out='$OUT/digits.png'" quality/digits.gp && echo "(digits sample grid: $OUT/digits.png)"

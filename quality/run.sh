#!/bin/sh
# run.sh BUILD OUT - `make quality`: every data set trained and sampled with the CLI's defaults
# (ncsn train DATA -o MODEL; ncsn sample MODEL -n N), then measured by quality/quality.c; prints
# the Markdown table (docs/quality.md), each row's verdict against the targets and a summary line
# (exit 1 if a row misses one), and draws OUT/digits.png. The real data come from Debian
# packages and are exported as a user would: R's write.csv (row names in column 1, a text column
# in iris) and sklearn's digits.csv.gz; each also in a standardised copy. The last column is the CPU time
# (user + sys, all threads) of `ncsn train`: on a shared machine the wall time says little.
# QUALITY_JOBS=J runs J rows at once (default: the machine's cores), QUALITY_THREADS=T gives the
# CLI --threads T (default 1; empty: the CLI's own default). Neither changes a bit of the results.
# QUALITY_TRAIN_ARGS="--stable-target" adds options to every row's ncsn train (to measure an option
# through the CLI; the table is then not the defaults').
set -u
B=$1; OUT=$2
Q="$B/quality"; N="$B/ncsn"
JOBS=${QUALITY_JOBS:-$(getconf _NPROCESSORS_ONLN 2> /dev/null || echo 1)}
TH=${QUALITY_THREADS-1}; TH=${TH:+--threads $TH}
XARGS=${QUALITY_TRAIN_ARGS-}
mkdir -p "$OUT"
# the verdict below must be able to fail: its own cases first (a NaN, each target's limit)
"$Q" selftest > "$OUT/selftest.log" || { cat "$OUT/selftest.log"; echo "quality: the verdict's self-test failed" >&2; exit 1; }
DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz

# CPU: the seconds (user + sys) of this shell's finished children, from the POSIX `times` builtin
# (run in this shell: in a pipe or $(...) it would count a subshell's children)
cpu() { times > "$OUT/.times$LANE"; CPU=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } print t }' "$OUT/.times$LANE"); }
LANE=0
# one row into OUT/NAME.row: NAME TRAIN_CSV EVAL_CSV N_SAMPLES [train options...]
row() { row1 "$@" > "$OUT/$1.row"; }
row1() {
  name=$1; train=$2; eval=$3; ns=$4; shift 4
  cpu; t0=$CPU
  if ! "$N" train "$train" -o "$OUT/$name.model" -q --checkpoint-every 0 $TH $XARGS "$@" 2> "$OUT/$name.train.log"; then
    echo "| $name | training failed: $(tail -n 1 "$OUT/$name.train.log") |"; return; fi
  cpu; t1=$CPU
  "$N" sample "$OUT/$name.model" -n "$ns" -q $TH > "$OUT/$name.samples.csv" 2> "$OUT/$name.sample.log"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "| $name | sampling failed (exit $rc): $(tail -n 1 "$OUT/$name.sample.log") |"; return; fi
  "$Q" eval "$name" "$eval" "$OUT/$name.samples.csv" "$OUT/$name.model" "$ns" "$(echo "$t1 - $t0" | bc)" ||
    echo "| $name | evaluation failed (exit $rc of ncsn sample: $(tail -n 1 "$OUT/$name.sample.log")) |"
}

# the real data, as R and sklearn ship them; each real row samples 10 times the data's size, whose
# energy distance to the data is the mean over 10 blocks of that size (docs/quality.md)
Rscript -e "write.csv(faithful, '$OUT/faithful.csv'); write.csv(scale(faithful), '$OUT/faithful_std.csv')" \
        -e "write.csv(faithful, '$OUT/faithful_num.csv', row.names = FALSE); write.csv(scale(faithful), '$OUT/faithful_std_num.csv', row.names = FALSE)" \
        -e "x <- iris; x[1:4] <- scale(iris[1:4]); write.csv(iris, '$OUT/iris.csv'); write.csv(x, '$OUT/iris_std.csv')" \
        -e "write.csv(iris[1:4], '$OUT/iris_num.csv', row.names = FALSE); write.csv(x[1:4], '$OUT/iris_std_num.csv', row.names = FALSE)" \
        -e "d <- read.csv(gzfile('$DIGITS'), header = FALSE)[, 1:64]; s <- scale(d); s[is.na(s)] <- 0" \
        -e "write.csv(s, '$OUT/digits_std.csv', row.names = FALSE)" || exit 1
zcat "$DIGITS" > "$OUT/digits.csv" && cut -d, -f1-64 "$OUT/digits.csv" > "$OUT/digits_num.csv" || exit 1
# sklearn's breast cancer table: its first line (counts and class names) dropped, as its error says;
# 30 measurements and the class (0/1), trained on the measurements (above 16 columns, below 50)
sed 1d "${DIGITS%/*}/breast_cancer.csv" > "$OUT/breast_cancer.csv" && cut -d, -f1-30 "$OUT/breast_cancer.csv" > "$OUT/breast_cancer_num.csv" || exit 1

for s in two_gaussians swiss_roll toy ring8 aniso3; do "$Q" gen $s "$OUT/$s.csv" || exit 1; done
# the rows, the longest first; each lane takes the next row nobody has claimed (mkdir is atomic)
ALL="real:breast_cancer real:digits real:digits_std two_gaussians swiss_roll toy ring8 aniso3 real:faithful real:faithful_std real:iris real:iris_std"
ROWS=${QUALITY_ROWS:-$ALL}   # a subset (QUALITY_ROWS="ring8 real:iris") reruns those rows only
for r in $ROWS; do
  case " $ALL " in *" $r "*) ;; *) echo "quality: QUALITY_ROWS: no row '$r' (the rows: $ALL)" >&2; exit 2 ;; esac
done
rm -rf "$OUT/.claims" && mkdir "$OUT/.claims" || exit 1
args() {
  case $1 in
    real:faithful) echo "$OUT/faithful.csv $OUT/faithful_num.csv 2720 --columns eruptions,waiting" ;;
    real:faithful_std) echo "$OUT/faithful_std.csv $OUT/faithful_std_num.csv 2720 --columns 2-3" ;;
    real:iris) echo "$OUT/iris.csv $OUT/iris_num.csv 1500 --columns 2-5" ;;
    real:iris_std) echo "$OUT/iris_std.csv $OUT/iris_std_num.csv 1500 --columns Sepal.Length,Sepal.Width,Petal.Length,Petal.Width" ;;
    real:digits) echo "$OUT/digits.csv $OUT/digits_num.csv 17970 --columns 1-64" ;;
    real:digits_std) echo "$OUT/digits_std.csv $OUT/digits_std.csv 17970" ;;
    real:breast_cancer) echo "$OUT/breast_cancer.csv $OUT/breast_cancer_num.csv 5690 --columns 1-30" ;;
    *) echo "$OUT/$1.csv $OUT/$1.csv 10000" ;;   # synthetic: per-mode widths to +-2 %, ED over 5 blocks (docs/quality.md)
  esac
}
LANE=0
while [ $LANE -lt "$JOBS" ]; do
  ( for r in $ROWS; do
      mkdir "$OUT/.claims/$r" 2> /dev/null && row $r $(args $r)
    done ) &
  LANE=$((LANE + 1))
done
wait
"$Q" header
for r in two_gaussians swiss_roll toy ring8 aniso3 real:faithful real:faithful_std real:iris real:iris_std real:breast_cancer real:digits real:digits_std; do
  case " $ROWS " in *" $r "*) cat "$OUT/$r.row" 2> /dev/null ;; esac   # this run's rows only
done
# the verdict: every row run now against its targets (quality eval's "targets" comment; a row that
# failed to train, sample or evaluate has none and counts as missed); exit 1 if any is missed
met=0; total=0
for r in $ROWS; do
  total=$((total + 1))
  if grep -q "^<!-- .*: targets met: " "$OUT/$r.row" 2> /dev/null; then met=$((met + 1))
  else
    why=$(grep -h "targets MISSED" "$OUT/$r.row" 2> /dev/null | sed 's/^<!-- [^ ]* //; s/ -->$//')
    echo "quality: $r: ${why:-no verdict (the row failed: see its line above)}"
  fi
done
echo "quality: $met of $total rows meet their targets (the digits' grid is judged by eye; training time is printed, not judged)"
if [ -s "$OUT/real:digits.samples.csv" ]; then
  "$Q" grid "$OUT/real:digits.samples.csv" "$OUT/digits_grid.dat" &&
    gnuplot -e "data='$OUT/digits_grid.dat'; out='$OUT/digits.png'" quality/digits.gp && echo "(digits sample grid: $OUT/digits.png)"
fi
[ $met -eq $total ]

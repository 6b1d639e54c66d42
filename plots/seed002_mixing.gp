# seed002_mixing.gp - seed 002 sec. 7.2: plain vs annealed Langevin on the 1/5 : 4/5 mixture.
# Data: seed002_toy_mixing (seed002_plain.csv, seed002_annealed.csv: Song's update form), f2.key.
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed002_mixing.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f2.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed002_mixing.png'
set datafile separator ','
stats data.'/seed002_plain.csv' using ($1 + $2 < 0 ? 1 : 0) nooutput
n_plain = STATS_records; w_plain = STATS_sum / STATS_records
stats data.'/seed002_annealed.csv' using ($1 + $2 < 0 ? 1 : 0) nooutput
n_ald = STATS_records; w_ald = STATS_sum / STATS_records
set multiplot layout 1,2 margins 0.08, 0.97, 0.14, 0.8 spacing 0.1 title sprintf("Song and Ermon's toy: weights %.1f at (%g,%g) and %.1f at (%g,%g), exact score, %d chains from a uniform box.\nRecovered weight of the (%g,%g) mode: plain Langevin %.3f, annealed Langevin %.3f (true %.1f)", \
    toy_w0, toy_m0, toy_m0, toy_w1, toy_m1, toy_m1, n_plain, toy_m0, toy_m0, w_plain, w_ald, toy_w0)
set size ratio -1
set xrange [-10:10]
set yrange [-10:10]
set xlabel 'x_1'
set ylabel 'x_2'
unset key
set arrow 1 from -10,10 to 10,-10 nohead dt 3 lc rgb '#909090'
set title sprintf("plain Langevin: weights %.3f / %.3f", w_plain, 1 - w_plain)
plot data.'/seed002_plain.csv' using 1:2 with points pt 7 ps 0.3 lc rgb '#e31a1c'
set title sprintf("annealed Langevin: weights %.3f / %.3f", w_ald, 1 - w_ald)
plot data.'/seed002_annealed.csv' using 1:2 with points pt 7 ps 0.3 lc rgb '#1f78b4'
unset multiplot

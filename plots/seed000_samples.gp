# seed000_samples.gp - seed 000, figure 8: samples of annealed Langevin over the data.
# Data: seed000_two_gaussians (seed000_samples.csv: sample x y, data x y) and seed000.key (from its log).
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_samples.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/seed000.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_samples.png'
set datafile separator ','
f = data.'/seed000_samples.csv'
stats f using ($1 < 0 ? 1 : 0) nooutput
n_ok = STATS_records
w_left = STATS_sum / STATS_records
set title sprintf("Seed 000: %s after %d DSM steps;\nannealed Langevin, ε = %g, L = %d levels × T = %d steps: %d chains, %d diverged; mode weights %.3f / %.3f;\nenergy distance samples–data %.4f (between two data samples: %.4f)", \
    arch, steps, eps, levels, T, n_chains, diverged, w_left, 1 - w_left, ed, ed_floor)
set xlabel 'x_1'
set ylabel 'x_2'
set size ratio -1
set xrange [-7:7]
set yrange [-4:4]
set key top right box opaque
plot f using 3:4 with points pt 7 ps 0.5 lc rgb '#a0a0a0' title sprintf('data (%d points)', n_ok), \
     f using 1:2 with points pt 7 ps 0.5 lc rgb '#e31a1c' title sprintf('samples (%d finite chains)', n_ok)

# seed001_samples.gp - seed 001 sec. 5.1: Swiss-roll training data against NCSN samples.
# Data: seed001_swiss_roll (seed001_data.csv, seed001_samples.csv) and seed001.key (from its log).
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed001_samples.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/seed001.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed001_samples.png'
set datafile separator ','
stats data.'/seed001_data.csv' using 1 nooutput
n_data = STATS_records
stats data.'/seed001_samples.csv' using 1 nooutput
n_samp = STATS_records
set multiplot layout 1,2 margins 0.08, 0.97, 0.12, 0.78 spacing 0.1 title sprintf("Seed 001: %s, %d steps;\nannealed Langevin, ε = %g, L = %d levels × T = %d steps: %d chains, %d diverged.\nEnergy distance samples–data %.4f (data–data %.4f);\nmean distance to the nearest training point %.3f (fresh data: %.4f)", \
    arch, steps, eps, levels, T, n_chains, diverged, ed, ed_floor, nn, nn_fresh)
set size ratio -1
set xrange [-2.5:2.5]
set yrange [-2.5:2.5]
set xlabel 'x_1 (standardised)'
set ylabel 'x_2 (standardised)'
unset key
set title sprintf('Training data (%d points)', n_data)
plot data.'/seed001_data.csv' using 1:2 with points pt 7 ps 0.25 lc rgb '#1f78b4'
set title sprintf('NCSN samples (%d)', n_samp)
plot data.'/seed001_samples.csv' using 1:2 with points pt 7 ps 0.35 lc rgb '#e31a1c'
unset multiplot

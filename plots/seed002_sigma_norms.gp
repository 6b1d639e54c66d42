# seed002_sigma_norms.gp - seed 002 sec. 5.3: the diagnostic mean ||sigma s(x~, sigma)|| across the levels.
# Data: f2_norms.dat (fig_seed002: toy, exact), f0_norms.dat (fig_seed000: two Gaussians, learned and
# exact), f1_norms.dat (fig_seed001: Swiss roll, learned and exact), f2.key.
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed002_sigma_norms.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f1.key'
load data.'/f2.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed002_sigma_norms.png'
stats data.'/f2_norms.dat' using 2 nooutput
t_min = STATS_min; t_max = STATS_max
set title sprintf("Seed 002's diagnostic: mean ||σ s(x + σz, σ)|| over noisy data points, per noise level.\nIt stays near E||z|| = %.4f (2-D) while σ is large against the data's local spread (toy, exact: %.2f–%.2f)\nand falls in proportion to σ once σ is small against it", \
    sqrt_pi_2, t_min, t_max)
set xlabel 'noise level σ  (log scale)'
set ylabel 'mean ||σ s(x̃, σ)||'
set logscale x
set format x '10^{%L}'
set xrange [0.007:30]
set yrange [0:1.5]
set grid
set key bottom right box opaque
plot sqrt_pi_2 with lines dt 3 lw 1.5 lc rgb '#606060' title 'E||z||: the score of a point mass, -z/σ', \
     data.'/f2_norms.dat' using 1:2 with linespoints lw 2 pt 7 lc rgb '#6a3d9a' title sprintf("toy mixture %g : %g, exact", toy_w0, toy_w1), \
     data.'/f0_norms.dat' using 1:3 with linespoints lw 2 pt 7 lc rgb '#1f78b4' title 'two Gaussians, exact', \
     data.'/f0_norms.dat' using 1:2 with linespoints lw 1.5 dt 2 pt 6 lc rgb '#1f78b4' title 'two Gaussians, learned', \
     data.'/f1_norms.dat' using 1:3 with linespoints lw 2 pt 5 lc rgb '#e31a1c' title sprintf('Swiss roll (%d points), exact', n_data), \
     data.'/f1_norms.dat' using 1:2 with linespoints lw 1.5 dt 2 pt 4 lc rgb '#e31a1c' title 'Swiss roll, learned'

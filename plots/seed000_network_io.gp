# seed000_network_io.gp - seed 000, figure 4: the network takes x and σ, and returns the score.
# Data: fig_seed000 (f0_line.dat, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_network_io.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_network_io.png'
array S[4] = [l_sigma0, l_sigma1, l_sigma2, l_sigma3]
array E[4] = [l_err0, l_err1, l_err2, l_err3]
set multiplot layout 2,2 title sprintf("One network for every noise level: ScoreNet s_θ(x, σ) (%s, %d DSM steps), inputs x = (x_1, 0) and σ;\nits output s_{θ,1} (solid) against the exact score ∂log q_σ/∂x_1 (dashed).\nError: mean |difference| / mean |exact| where |x_1 ∓ %g| < %g (the data)", arch, steps, l_centre, l_radius)
set xrange [-8:8]
set xlabel 'x_1'
set ylabel 'first score component'
set key top right font ',9'
set grid
do for [k=1:4] {
  set title sprintf("σ = %g: error %.3f", S[k], E[k])
  plot data.'/f0_line.dat' using 1:(column(2*k)) with lines lw 2 lc rgb '#1f78b4' title 's_θ(x, σ)', \
       '' using 1:(column(2*k+1)) with lines lw 2 dt 2 lc rgb '#e31a1c' title '∇ log q_σ(x)'
}
unset multiplot

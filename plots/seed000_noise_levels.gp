# seed000_noise_levels.gp - seed 000, figure 3: noise levels fill the empty space.
# Data: fig_seed000 (f0_density.dat, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_noise_levels.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_noise_levels.png'
array S[6] = [d_sigma0, d_sigma1, d_sigma2, d_sigma3, d_sigma4, d_sigma5]
array G[6] = [d_gap0, d_gap1, d_gap2, d_gap3, d_gap4, d_gap5]
array M[6] = [d_mass0, d_mass1, d_mass2, d_mass3, d_mass4, d_mass5]
array C[6] = ['#000000', '#6a3d9a', '#1f78b4', '#33a02c', '#ff7f00', '#e31a1c']
dev = 0
do for [k=1:6] { dev = abs(M[k]-1) > dev ? abs(M[k]-1) : dev }
set multiplot layout 2,1 title sprintf("Noise fills the empty space: q_σ = p * N(0, σ²) for the x_1 marginal of seed 000's two Gaussians.\nIn the gap, q_σ(%g) rises from %.1e (σ = %g) to %.3f (σ = %.3g); each q_σ integrates to 1 within %.1e", \
    d_gapx, G[1], S[1], G[4], S[4], dev)
set xrange [-15:15]
set key top right
set ylabel 'q_σ(x_1)'
set yrange [0:*]
plot for [k=1:6] data.'/f0_density.dat' using 1:(column(k+1)) with lines lw 2 lc rgb C[k] title sprintf('σ = %.3g', S[k])
set logscale y
set yrange [1e-12:2]
set format y '10^{%L}'
set ylabel 'q_σ(x_1), log scale'
set xlabel 'x_1'
set key bottom center horizontal
plot for [k=1:6] data.'/f0_density.dat' using 1:(column(k+1)) with lines lw 2 lc rgb C[k] notitle
unset multiplot

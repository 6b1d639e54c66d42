# seed002_dae_field.gp - seed 002, Figure 2: the optimal denoiser's field points back to the manifold.
# Data: fig_seed002 (f2_curve.dat, f2_kernels.dat, f2_noisy.dat, f2.key).
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed002_dae_field.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f2.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed002_dae_field.png'
set title sprintf("The optimal denoiser's field r(x̃) - x̃ = E[x | x̃] - x̃ = σ² ∇log q_σ(x̃) around a 1-D manifold\n(%d points on a curve, σ = %g). At %.1f%% of %d noisy samples it points toward the nearest curve point;\nits mean length is %.3f, the mean distance to the curve %.3f", \
    k_curve, sigma, 100*toward, n_noisy, mean_field, mean_dist)
set xlabel 'x_1'
set ylabel 'x_2'
set size ratio -1
set xrange [-4.6:4.6]
set yrange [-2.6:2.6]
set key bottom right box opaque
set style fill transparent solid 0.12 border lc rgb '#8fd08f'
plot data.'/f2_kernels.dat' using 1:2:3 with circles lc rgb '#33a02c' title 'corruption kernels N(x, σ²I): radius σ, 2σ', \
     data.'/f2_noisy.dat' every 2 using 1:2 with points pt 7 ps 0.5 lc rgb '#808080' title 'noisy samples x̃ = x + σz (every other one drawn)', \
     data.'/f2_noisy.dat' every 2 using 1:2:3:4 with vectors head size 0.07,25 filled lw 1.3 lc rgb '#1f4fd0' title 'r(x̃) - x̃', \
     data.'/f2_curve.dat' using 1:2 with lines lw 3 lc rgb '#e31a1c' title 'data manifold'

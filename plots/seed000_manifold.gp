# seed000_manifold.gp - seed 000, figure 2: data on a thin manifold; most of the plane is empty.
# Data: fig_seed000 (f0_manifold_*, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_manifold.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_manifold.png'
set title sprintf("Data on a thin manifold: %d points on a curve in the plane.\nColour: their density smoothed by σ = %g; it is below %g%% of its peak on %.0f%% of the square", man_n, man_sigma, man_thresh, 100*(1-man_frac))
set xlabel 'x_1'
set ylabel 'x_2'
set size ratio -1
set xrange [-3.2:3.2]
set yrange [-3.2:3.2]
set cbrange [-8:1]
set cblabel 'log_{10} q_σ(x)   (clipped at -8)'
set key top right textcolor rgb 'white'
set palette defined (0 '#000020', 1 '#203080', 2 '#2090a0', 3 '#a0d060', 4 '#fff080')
plot data.'/f0_manifold_density.dat' using 1:2:($3 < -8 ? -8 : $3) with image notitle, \
     data.'/f0_manifold_pts.dat' using 1:2 with points pt 7 ps 0.2 lc rgb '#ff3030' title 'the data points'

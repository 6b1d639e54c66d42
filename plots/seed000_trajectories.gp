# seed000_trajectories.gp - seed 000, figure 6: annealed Langevin dynamics from coarse to fine.
# Data: fig_seed000 (f0_traj.dat, f0_traj_end.dat, f0_data.dat, f0.key).
# Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_trajectories.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_trajectories.png'
set palette defined (0 '#e31a1c', 1 '#ff7f00', 2 '#33a02c', 3 '#1f78b4', 4 '#000060')
set cbrange [0.5:tr_L+0.5]
set cbtics 1
set cblabel 'level i (σ_i from coarse to fine)'
set multiplot title sprintf("Annealed Langevin dynamics with the trained ScoreNet: x ← x + a s_θ(x, σ_i) + √(2a) z, a = ε σ_i²/σ_L²,\nε = %g (first a = %g), T = %d steps at each of L = %d levels. %d of %d chains drawn;\nat the end %d chains are in the left mode, %d in the right, %d diverged", \
    tr_eps, tr_a1, tr_T, tr_L, tr_keep, tr_n, tr_left, tr_right, tr_bad)
set size 0.9, 0.36
set origin 0, 0.52
set xlabel 'Langevin step (T steps per level)' offset 0,0.5
set ylabel 'x_1'
set xrange [0:tr_L*tr_T]
set yrange [-30:30]
set xtics tr_T
set grid xtics
unset key
set colorbox user origin 0.9, 0.58 size 0.02, 0.26
set cblabel 'level i' offset -0.5,0
plot for [c=0:tr_keep-1] data.'/f0_traj.dat' index c using 1:2:4 with lines lw 1 lc palette notitle
set size 0.9, 0.52
set origin 0, 0
set xlabel 'x_1' offset 0,0
set ylabel 'x_2'
set size ratio -1
set xrange [-10:10]
set yrange [-6:6]
set xtics 2
unset grid
set key outside right center samplen 1 font ',10' width -8 spacing 1.3
plot data.'/f0_data.dat' using 1:2 with points pt 7 ps 0.3 lc rgb '#bbbbbb' title 'data', \
     for [c=0:tr_keep-1] data.'/f0_traj.dat' index c every tr_T using 2:3:4 with linespoints lw 1.5 pt 7 ps 0.6 lc palette notitle, \
     data.'/f0_traj_end.dat' using 1:2 with points pt 7 ps 0.4 lc rgb 'black' title sprintf('end of all %d chains', tr_n), \
     keyentry with linespoints lw 1.5 pt 7 ps 0.6 lc rgb '#ff7f00' title 'position at the end of each level'
unset multiplot

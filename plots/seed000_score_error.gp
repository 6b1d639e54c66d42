# seed000_score_error.gp - seed 000, figure 1: score estimation is unreliable far from the data.
# Data: fig_score_error (f0e_*). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_score_error.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0e.key'
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_score_error.png'
set title sprintf("Score net trained by DSM at one small noise level {/Symbol s} = %g (%d steps) on two Gaussians.\nRelative error of the learned score: median %.3f within %g of a mode centre, %.3f beyond %g", sigma, steps, med_near, r_near, med_far, r_far)
set xlabel 'x_1'
set ylabel 'x_2'
set size ratio -1
set xrange [-8:8]
set yrange [-6:6]
set logscale cb
set cbrange [0.01:3]
set cblabel '||s_{/Symbol q} - {/Symbol \321}log q_{/Symbol s}|| / ||{/Symbol \321}log q_{/Symbol s}||  (log scale)'
set palette defined (0 '#000030', 1 '#2040a0', 2 '#20a0a0', 3 '#f0e040', 4 '#e03020')
unset key
set label 1 'arrows: exact (black) and learned (white) score directions;  magenta: 500 of the 5000 training points' at screen 0.5, 0.025 center
a = 0.75   # arrow length (directions only)
plot data.'/f0e_grid.dat' using 1:2:($5 < 0.01 ? 0.01 : $5 > 3 ? 3 : $5) with image notitle, \
     data.'/f0e_arrows.dat' using 1:2:(a*$5):(a*$6) with vectors head size 0.12,25 filled lw 2.5 lc rgb 'black' notitle, \
     data.'/f0e_arrows.dat' using 1:2:(a*$3):(a*$4) with vectors head size 0.12,25 filled lw 1.2 lc rgb 'white' notitle, \
     data.'/f0e_data.dat' using 1:2 with points pt 7 ps 0.3 lc rgb '#ff60ff' notitle

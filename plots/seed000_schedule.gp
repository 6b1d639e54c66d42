# seed000_schedule.gp - seed 000, figure 5: the geometric noise schedule on a log axis.
# Data: fig_seed000 (f0_schedule.dat, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_schedule.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_schedule.png'
set title sprintf("Geometric noise schedule σ_i = σ_1 (σ_L/σ_1)^{(i-1)/(L-1)}: σ_1 = %g, σ_L = %g, L = %d\nequal steps on a log axis, every ratio σ_i/σ_{i+1} = %.4f (σ_%d = %.4f)", sch_max, sch_min, sch_L, sch_ratio, sch_i5, sch_s5)
set xlabel 'level i'
set ylabel 'σ_i  (log scale)'
set logscale y
set yrange [sch_min/2:sch_max*3]
set xrange [0.5:sch_L+0.5]
set xtics 1
set grid ytics mytics
set key bottom left
plot data.'/f0_schedule.dat' using 1:3 with linespoints lw 1 pt 6 lc rgb '#999999' title 'linear (for comparison)', \
     '' using 1:4 with linespoints lw 1 pt 4 lc rgb '#c0a060' title 'cosine (for comparison)', \
     '' using 1:2 with linespoints lw 2.5 pt 7 ps 1.5 lc rgb '#1f78b4' title 'geometric', \
     '' using 1:2:(sprintf('%.4g', $2)) with labels offset 3.2,0.9 font ',10' notitle

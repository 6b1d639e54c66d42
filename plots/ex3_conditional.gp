# ex3_conditional.gp - seed 001 exercise 3: a class-conditional NCSN (input [x, onehot(class)]) on a
# 4-class 2-D Gaussian mixture.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex3_conditional.gp   (DIR holds ex3_*.dat)
# Every number in a title or label is read from ex3_summary.dat, written by exercises/ex3_conditional.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1100,780 font ',9'
set output out.'/ex3_conditional.png'

sum = data.'/ex3_summary.dat'
# ex3_summary.dat, one row per class and source (source 0: network T = 100, 1: network T = 10,
# 2: exact score T = 100, 3: fresh data): class source T weight accuracy energy energy_floor
# mean1 mean2 sd1 sd2 true_mean1 true_mean2 true_sd1 true_sd2 diverged n_per steps
stats sum every ::0::0 using 17 nooutput; NPER = STATS_max
stats sum every ::0::0 using 18 nooutput; STEPS = STATS_max
stats sum using ($2 < 2 ? $16 : 0) nooutput; NDIV = STATS_sum
array TS[3]
do for [k=0:2] { stats sum every ::k::k using 3 nooutput; TS[k+1] = STATS_max }
src(k) = k == 0 ? sprintf('network, T = %d', TS[1]) : k == 1 ? sprintf('network, T = %d', TS[2]) : \
         k == 2 ? sprintf("each class's exact score, T = %d", TS[3]) : 'fresh data'
set linetype 11 lc rgb '#1f77b4'
set linetype 12 lc rgb '#d62728'
set linetype 13 lc rgb '#2ca02c'
set linetype 14 lc rgb '#9467bd'
# where each class's label goes, relative to its mean: above for the upper two, below for the lower two
lx(c, m) = c == 2 ? m - 1.6 : c == 3 ? m + 1.6 : m
ly(c, m) = c < 2 ? m + 1.5 : m - 2.4

set multiplot layout 2,3 title sprintf("Class-conditional NCSN: one network with input [x, onehot(class)], noise on x only, %d Adam steps;\n%d samples per class from seed 001's annealed Langevin (T steps per level); %d network chains diverged", STEPS, NPER, NDIV)
set size ratio -1
set xrange [-5.5:5.5]
set yrange [-6:5]
set xlabel 'x_1'
set ylabel 'x_2'

set title "Training data, coloured by class\n(label: class, weight)"
plot data.'/ex3_data.dat' using 1:2:($3 + 11) with points pt 7 ps 0.2 lc variable notitle, \
     sum using ($2 == 0 ? lx($1, $12) : NaN):(ly($1, $13)):(sprintf("class %d\nweight %.1f", $1, $4)) with labels font ',9' notitle

do for [k=0:2] {
    set title sprintf("%s\n(label: accuracy; energy distance (floor))", src(k))
    plot sprintf('%s/ex3_samples_%d.dat', data, k) using 1:2:($3 + 11) with points pt 7 ps 0.25 lc variable notitle, \
         sum using ($2 == k ? lx($1, $12) : NaN):(ly($1, $13)):(sprintf("acc %.3f\nED %.4f (%.4f)", $5, $6, $7)) with labels font ',9' notitle
}

set size noratio
set autoscale
set xrange [-0.5:3.5]
set xtics 1
set xlabel 'class'
set grid ytics
set style data linespoints
col(k) = k == 0 ? '#000000' : k == 1 ? '#ff7f0e' : k == 2 ? '#7f7f7f' : '#17becf'
short(k) = k == 0 ? sprintf('net, T = %d', TS[1]) : k == 1 ? sprintf('net, T = %d', TS[2]) : k == 2 ? sprintf('exact, T = %d', TS[3]) : 'data'
set title "Accuracy: fraction of a class's samples\nnearest to its own mean"
set ylabel 'accuracy'
set yrange [*:1.02]
set key bottom left
plot for [k=0:3] sum every 4::k using 1:5 pt 7 ps 1 lw 1.5 lc rgb col(k) title short(k)

set title "Std per coordinate / true std\n(solid: x_1, dashed: x_2)"
set ylabel 'sample std / true std'
set yrange [0:2.4]
set key top right
plot for [k=0:3] sum every 4::k using 1:($10/$14) pt 7 ps 1 lw 1.5 lc rgb col(k) title short(k), \
     for [k=0:3] sum every 4::k using 1:($11/$15) pt 6 ps 1 lw 1 dt 2 lc rgb col(k) notitle, \
     1 with lines lc rgb 'gray' dt 3 notitle
unset multiplot

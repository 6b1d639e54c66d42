# ex2_adaptive_step.gp - seed 001 exercise 2, part A: alpha ~ 1/||s||^2 vs the fixed alpha_i = kappa sigma_i^2,
# driven by the exact score of a three-mode mixture.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex2_adaptive_step.gp   (DIR holds ex2_*.dat)
# Every number in a title is read from ex2_grid.dat, written by exercises/ex2_adaptive_step.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1050,760 font ',9'
set output out.'/ex2_adaptive_step.png'

grid = data.'/ex2_grid.dat'
# ex2_grid.dat: rule kappa T evals energy floor weight_err sd_narrow sd_wide diverged;
# blocks (index) 0-2: T = 10, rules 0-2; blocks 3-5: T = 100; 5 kappas per block, kappa = 1 is row 2
array ED[3]; array WE[3]; array SN[3]; array SW[3]; array DV[3]
do for [r=0:2] {
    stats grid index r every ::2::2 using 5 nooutput; ED[r+1] = STATS_max
    stats grid index r every ::2::2 using 7 nooutput; WE[r+1] = STATS_max
    stats grid index r every ::2::2 using 8 nooutput; SN[r+1] = STATS_max
    stats grid index r every ::2::2 using 9 nooutput; SW[r+1] = STATS_max
    stats grid index r every ::2::2 using 10 nooutput; DV[r+1] = STATS_max
}
stats grid index 0 every ::0::0 using 6 nooutput; FLOOR = STATS_max
stats grid index 0 every ::0::0 using 3 nooutput; T1 = STATS_max
stats grid index 3 every ::0::0 using 3 nooutput; T2 = STATS_max
mixf = data.'/ex2_mixture.dat'
array MW[3]; array M1[3]; array M2[3]; array SD[3]
do for [k=0:2] {
    stats mixf every ::k::k using 2 nooutput; MW[k+1] = STATS_max
    stats mixf every ::k::k using 3 nooutput; M1[k+1] = STATS_max
    stats mixf every ::k::k using 4 nooutput; M2[k+1] = STATS_max
    stats mixf every ::k::k using 5 nooutput; SD[k+1] = STATS_max
}
comp(k) = sprintf('%g N((%g,%g), %g^2)', MW[k], M1[k], M2[k], SD[k])
stats grid index 0 every ::2::2 using 2 nooutput; KAPPA = STATS_max
stats data.'/ex2_alpha.dat' every ::0::0 using 5 nooutput; KALPHA = STATS_max
stats data.'/ex2_alpha.dat' every ::0::0 using 6 nooutput; TALPHA = STATS_max
name(r) = r == 1 ? 'fixed' : r == 2 ? 'adaptive/level' : 'adaptive/chain'
col(r) = r == 1 ? '#1f77b4' : r == 2 ? '#d62728' : '#2ca02c'

set multiplot layout 2,3 title sprintf("Annealed Langevin step sizes on %s + %s + %s, exact score\nfixed: alpha_i = kappa sigma_i^2;  adaptive/level: alpha = 2 kappa / mean_j ||s_j||^2;  adaptive/chain: alpha_j = 2 kappa / ||s_j||^2 (capped); energy-distance floor %.4f", comp(1), comp(2), comp(3), FLOOR)
set grid
set logscale xy
set format y '10^{%L}'
set key top left
set title sprintf('Mean step per level (kappa = %g, T = %d)', KALPHA, TALPHA)
set xlabel 'sigma_i'
set ylabel 'alpha'
plot for [r=1:3] data.'/ex2_alpha.dat' using 1:(column(r+1)) with linespoints pt 7 ps 0.6 lw 1.5 lc rgb col(r) title name(r)

set format y '%g'
set xrange [0.07:14]
set yrange [0.3:1000]
set title 'Energy distance to fresh samples / floor'
set xlabel 'kappa (= alpha / variance at the first level)'
set ylabel 'energy distance / floor'
set key top center
plot for [r=0:2] grid index r using 2:($5/$6) with linespoints dt 2 pt 6 ps 0.7 lc rgb col(r+1) notitle, \
     for [r=0:2] grid index r+3 using 2:($5/$6) with linespoints pt 7 ps 0.7 lw 1.5 lc rgb col(r+1) notitle, \
     NaN with lines dt 2 lc rgb 'black' title sprintf('T = %d steps per level', T1), \
     NaN with lines lw 1.5 lc rgb 'black' title sprintf('T = %d', T2), \
     1 with lines lc rgb 'black' dt 3 title 'floor'

set yrange [0.5:100]
set title sprintf('Narrow mode (std %g): sample std / true std', SD[1])
set ylabel 'sample std / true std'
plot for [r=0:2] grid index r using 2:8 with linespoints dt 2 pt 6 ps 0.7 lc rgb col(r+1) notitle, \
     for [r=0:2] grid index r+3 using 2:8 with linespoints pt 7 ps 0.7 lw 1.5 lc rgb col(r+1) notitle, \
     NaN with lines dt 2 lc rgb 'black' title sprintf('T = %d', T1), \
     NaN with lines lw 1.5 lc rgb 'black' title sprintf('T = %d', T2), \
     1 with lines lc rgb 'black' dt 3 title 'exact'

unset logscale xy
unset grid
set size ratio -1
set xrange [-7:8]
set yrange [-7:8]
set xlabel 'x_1'
set ylabel 'x_2'
set key top right opaque
do for [r=1:3] {
    set title sprintf("%s (kappa = %g, T = %d)\nenergy distance %.4f, weight error %.3f\nstd/true: narrow %.2f, wide %.2f; diverged %d", \
                      name(r), KAPPA, T1, ED[r], WE[r], SN[r], SW[r], DV[r])
    plot data.'/ex2_mix.dat' using 1:2 with points pt 7 ps 0.25 lc rgb '#c0c0c0' title 'mixture', \
         data.'/ex2_samples_'.(r == 1 ? 'fixed' : r == 2 ? 'level' : 'chain').'.dat' using 1:2 with points pt 7 ps 0.25 lc rgb col(r) title 'samples'
}
unset multiplot

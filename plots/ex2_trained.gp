# ex2_trained.gp - seed 001 exercise 2, part B: the three step rules driven by a trained score network
# on the Swiss roll, at kappa = 1 (seed 001's eps = 1e-4) and kappa = 0.25.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex2_trained.gp   (DIR holds ex2_net*.dat)
# Every number in a title is read from ex2_net.dat, written by exercises/ex2_adaptive_step.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1050,760 font ',9'
set output out.'/ex2_trained.png'

f = data.'/ex2_net.dat'
# ex2_net.dat: rule kappa T energy energy_floor precision precision_floor coverage coverage_floor diverged n_chains steps
# rows 0-2: kappa 1 (rules 0-2), rows 3-5: kappa 0.25
array KA[6]; array ED[6]; array PR[6]; array CO[6]; array DV[6]
do for [i=0:5] {
    stats f every ::i::i using 2 nooutput; KA[i+1] = STATS_max
    stats f every ::i::i using 4 nooutput; ED[i+1] = STATS_max
    stats f every ::i::i using 6 nooutput; PR[i+1] = STATS_max
    stats f every ::i::i using 8 nooutput; CO[i+1] = STATS_max
    stats f every ::i::i using 10 nooutput; DV[i+1] = STATS_max
}
stats f every ::0::0 using 3 nooutput; T = STATS_max
stats f every ::0::0 using 5 nooutput; EDF = STATS_max
stats f every ::0::0 using 7 nooutput; PRF = STATS_max
stats f every ::0::0 using 9 nooutput; COF = STATS_max
stats f every ::0::0 using 12 nooutput; STEPS = STATS_max
name(r) = r == 0 ? 'fixed' : r == 1 ? 'adaptive/level' : 'adaptive/chain'
file(r) = r == 0 ? 'fixed' : r == 1 ? 'level' : 'chain'
col(r) = r == 0 ? '#1f77b4' : r == 1 ? '#d62728' : '#2ca02c'

set multiplot layout 2,3 title sprintf("Step rules with a trained score network (Swiss roll, %d Adam steps, s = net/sigma), T = %d steps per level\nfloors (fresh data as samples): energy distance %.4f, precision %.3f, coverage %.3f", STEPS, T, EDF, PRF, COF)
set size ratio -1
set xrange [-2.6:2.6]
set yrange [-2.6:2.6]
set xlabel 'x_1'
set ylabel 'x_2'
set key bottom right opaque
do for [i=0:5] {
    r = i % 3
    set title sprintf("%s, kappa = %g\nenergy distance %.4f, diverged %d\nprecision %.3f, coverage %.3f", \
                      name(r), KA[i+1], ED[i+1], DV[i+1], PR[i+1], CO[i+1])
    plot data.'/ex2_net_data.dat' using 1:2 with points pt 7 ps 0.25 lc rgb '#c8c8c8' title 'data', \
         sprintf('%s/ex2_net_samples_%s_%d.dat', data, file(r), i / 3) using 1:2 with points pt 7 ps 0.25 lc rgb col(r) title 'samples'
}
unset multiplot

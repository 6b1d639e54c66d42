# ex5_ncsn_vs_ddpm.gp - seed 001 exercise 5: NCSN vs DDPM on the Swiss roll with the same network.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex5_ncsn_vs_ddpm.gp   (DIR holds ex5_*.dat)
# Every number in a title is read from ex5_summary.dat, written by exercises/ex5_ncsn_vs_ddpm.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1050,800 font ',9'
set output out.'/ex5_ncsn_vs_ddpm.png'

sum = data.'/ex5_summary.dat'
# ex5_summary.dat: model evals energy energy_floor precision precision_floor coverage coverage_floor
#                  diverged n_samples train_s ms_per_step sample_s steps train_cpu_s
# rows: model 0 at 1000 and 100 evaluations, then model 1, then model 2
array EV[6]; array ED[6]; array PR[6]; array CO[6]; array DV[6]; array TR[6]; array MS[6]; array TS[6]; array TC[6]
do for [i=0:5] {
    stats sum every ::i::i using 2 nooutput; EV[i+1] = STATS_max
    stats sum every ::i::i using 3 nooutput; ED[i+1] = STATS_max
    stats sum every ::i::i using 5 nooutput; PR[i+1] = STATS_max
    stats sum every ::i::i using 7 nooutput; CO[i+1] = STATS_max
    stats sum every ::i::i using 9 nooutput; DV[i+1] = STATS_max
    stats sum every ::i::i using 11 nooutput; TR[i+1] = STATS_max
    stats sum every ::i::i using 12 nooutput; MS[i+1] = STATS_max
    stats sum every ::i::i using 13 nooutput; TS[i+1] = STATS_max
    stats sum every ::i::i using 15 nooutput; TC[i+1] = STATS_max
}
stats sum every ::0::0 using 4 nooutput; EDF = STATS_max
stats sum every ::0::0 using 6 nooutput; PRF = STATS_max
stats sum every ::0::0 using 8 nooutput; COF = STATS_max
stats sum every ::0::0 using 10 nooutput; NS = STATS_max
stats sum every ::0::0 using 14 nooutput; STEPS = STATS_max
name(k) = k == 0 ? 'NCSN (s = net)' : k == 1 ? 'NCSN (s = net/sigma)' : 'DDPM (eps-prediction)'
file(k) = k == 0 ? 'ncsn' : k == 1 ? 'ncsn_scaled' : 'ddpm'
col(k) = k == 0 ? '#1f77b4' : k == 1 ? '#2ca02c' : '#d62728'

set multiplot layout 2,3 title sprintf("NCSN vs DDPM on the Swiss roll: same network, Adam, batches and initial weights, %d steps each; %d samples\nfloors (fresh data as samples): energy distance %.4f, precision %.3f, coverage %.3f", STEPS, NS, EDF, PRF, COF)
set grid
set key top right
set title "Training loss, 100-step moving average\n(each model averages over its own noise levels)"
set xlabel 'Adam step'
set ylabel 'noise-prediction error per coordinate'
plot for [k=0:2] data.'/ex5_loss.dat' using 1:(column(k+2)) with lines lw 1.5 lc rgb col(k) title name(k)

set logscale xy
set xrange [70:1400]
set xtics (100, 1000)
set xlabel 'network evaluations per sample'
set title sprintf("Energy distance to fresh data / floor\n(at %d and %d evaluations per sample)", EV[1], EV[2])
set ylabel 'energy distance / floor'
set key top left
plot for [k=0:2] sum every ::(2*k)::(2*k+1) using 2:($3/$4) with linespoints pt 7 ps 1 lw 1.5 lc rgb col(k) title name(k), \
     1 with lines dt 3 lc rgb 'black' title 'floor'
set title "Precision and coverage / floor\n(nearest-point distances)"
set ylabel 'mean nearest-point distance / floor'
set key top right
plot for [k=0:2] sum every ::(2*k)::(2*k+1) using 2:($5/$6) with linespoints pt 7 ps 1 lw 1.5 lc rgb col(k) notitle, \
     for [k=0:2] sum every ::(2*k)::(2*k+1) using 2:($7/$8) with linespoints pt 6 ps 1 dt 2 lc rgb col(k) notitle, \
     NaN with linespoints pt 7 lw 1.5 lc rgb 'black' title 'precision', \
     NaN with linespoints pt 6 dt 2 lc rgb 'black' title 'coverage', \
     1 with lines dt 3 lc rgb 'black' title 'floor'
unset logscale xy
set xtics autofreq
unset grid

set size ratio -1
set xrange [-2.6:2.6]
set yrange [-2.6:2.6]
set xlabel 'x_1'
set ylabel 'x_2'
set key bottom right opaque
do for [k=0:2] {
    i = 2 * k + 1
    set title sprintf("%s, %d evaluations\nenergy distance %.4f, diverged %d\nprecision %.3f, coverage %.3f\ntraining %.1f s (CPU %.1f s), sampling %.2f s", \
                      name(k), EV[i], ED[i], DV[i], PR[i], CO[i], TR[i], TC[i], TS[i])
    plot data.'/ex5_data.dat' using 1:2 with points pt 7 ps 0.2 lc rgb '#c8c8c8' title 'data', \
         data.'/ex5_samples_'.file(k).'.dat' using 1:2 with points pt 7 ps 0.25 lc rgb col(k) title 'samples'
}
unset multiplot

# ex1_schedules.gp - seed 001 exercise 1: geometric vs linear vs cosine noise schedules.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex1_schedules.gp   (DIR holds ex1_*.dat)
# Every number in a title is read from ex1_summary.dat, written by exercises/ex1_schedules.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1050,1000 font ',9'
set output out.'/ex1_schedules.png'

sum = data.'/ex1_summary.dat'
# ex1_summary.dat, one row per schedule: kind, then for T = 100 and T = 10 sampler steps per level:
# energy precision coverage diverged (columns 2-5 and 6-9); energy_floor precision_floor coverage_floor
# n_samples loss_cv val_jitter steps runs (10-17), the two T (18, 19)
array ED[6]; array PR[6]; array CO[6]; array DIV[6]; array CV[3]; array JI[3]
do for [k=0:2] {
    do for [q=0:1] {
        stats sum every ::k::k using (column(2 + 4*q)) nooutput; ED[3*q+k+1] = STATS_max
        stats sum every ::k::k using (column(3 + 4*q)) nooutput; PR[3*q+k+1] = STATS_max
        stats sum every ::k::k using (column(4 + 4*q)) nooutput; CO[3*q+k+1] = STATS_max
        stats sum every ::k::k using (column(5 + 4*q)) nooutput; DIV[3*q+k+1] = STATS_max
    }
    stats sum every ::k::k using 14 nooutput; CV[k+1] = STATS_max
    stats sum every ::k::k using 15 nooutput; JI[k+1] = STATS_max
}
stats sum every ::0::0 using 10 nooutput; EDF = STATS_max
stats sum every ::0::0 using 11 nooutput; PRF = STATS_max
stats sum every ::0::0 using 12 nooutput; COF = STATS_max
stats sum every ::0::0 using 13 nooutput; NS = STATS_max
stats sum every ::0::0 using 16 nooutput; steps = STATS_max
stats sum every ::0::0 using 17 nooutput; runs = STATS_max
stats sum every ::0::0 using 18 nooutput; T1 = int(STATS_max)
stats sum every ::0::0 using 19 nooutput; T2 = int(STATS_max)
name(k) = k == 1 ? 'geometric' : k == 2 ? 'linear' : 'cosine'
col(k) = k == 1 ? '#1f77b4' : k == 2 ? '#d62728' : '#2ca02c'

set multiplot layout 3,3 title sprintf("Noise schedules on the Swiss roll: same net, data, batches and noise, %d Adam steps; numbers: means of %d run(s); pictures: run 1 (grey: data)\nfloors (fresh data as samples): energy distance %.4f, precision %.3f, coverage %.3f", steps, runs, EDF, PRF, COF)
set key top right
set grid

stats data.'/ex1_sigmas.dat' using 2 nooutput
set title sprintf("The three schedules\n(sigma_{max} %g, sigma_{min} %g, L = %d)", STATS_max, STATS_min, STATS_records)
set xlabel 'level i'
set ylabel 'sigma_i'
set logscale y
plot for [k=1:3] data.'/ex1_sigmas.dat' using 1:(column(k+1)) with linespoints pt 7 ps 0.6 lc rgb col(k) title name(k)
unset logscale y

set key at graph 0.98, graph 0.5 right top
set title "Minibatch loss, 100-step moving average\n(key: CV = sd/mean over the last quarter)"
set xlabel 'Adam step'
set xtics steps / 4
set ylabel 'sigma^2-weighted DSM loss'
plot for [k=1:3] data.'/ex1_loss.dat' using 1:(column(k+1)) with lines lw 1.5 lc rgb col(k) \
     title sprintf('%s, CV %.3f', name(k), CV[k])

set title "Validation loss (fixed points, levels, noise)\n(key: jitter over the last quarter)"
set ylabel 'sigma^2-weighted DSM loss'
plot for [k=1:3] data.'/ex1_val.dat' using 1:(column(k+1)) with lines lw 1.5 lc rgb col(k) \
     title sprintf('%s, jitter %.4f', name(k), JI[k])

unset grid
set xtics autofreq
set size ratio -1
set xrange [-2.6:2.6]
set yrange [-2.6:2.6]
set xlabel 'x_1'
set ylabel 'x_2'
set key bottom right opaque
do for [q=0:1] {
    T = q == 0 ? T1 : T2
    do for [k=1:3] {
        i = 3*q + k
        set title sprintf("%s, sampler with T = %d steps per level\nenergy distance %.4f, diverged %g/%d\nprecision %.3f, coverage %.3f", \
                          name(k), T, ED[i], DIV[i], NS, PR[i], CO[i])
        plot data.'/ex1_data.dat' using 1:2 with points pt 7 ps 0.25 lc rgb '#c8c8c8' notitle, \
             sprintf('%s/ex1_samples_%s_%d.dat', data, name(k), T) using 1:2 with points pt 7 ps 0.25 lc rgb col(k) notitle
    }
}
unset multiplot

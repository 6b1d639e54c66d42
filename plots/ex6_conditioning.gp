# ex6_conditioning.gp - exercise 6: the learned score's error per noise level for eight ways to
# condition the network on sigma (docs/conditioning.md).
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex6_conditioning.gp   (DIR holds ex6_conditioning*.dat)
# Every number in a title is read from ex6_conditioning_meta.dat, written by exercises/ex6_conditioning.c.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
set terminal pngcairo size 1050,800 font ',9'
set output out.'/ex6_conditioning.png'

tab = data.'/ex6_conditioning.dat'
meta = data.'/ex6_conditioning_meta.dat'
# ex6_conditioning.dat: one block per data set (index 0..3): set level sigma, then for each of the
# 8 columns (bit 0: ln sigma, bit 1: embedding, bit 2: s = net/sigma) mean min max error in %
stats meta using 1 nooutput; STEPS = int(STATS_max)
stats meta using 2 nooutput; SEEDS = int(STATS_max)
stats meta using 3 nooutput; BATCH = int(STATS_max)
setname(k) = k == 0 ? 'two Gaussians (2-D)' : k == 1 ? 'toy 1/5 : 4/5 (2-D)' : k == 2 ? 'ring of 8 (2-D)' : 'anisotropic mixture (4-D)'
name(v) = sprintf('%s %s%s', v % 2 ? 'ln σ' : 'σ', int(v / 2) % 2 ? 'embedded' : 'concatenated', v >= 4 ? ', s = net/σ' : ', s = net')
col(v) = (v % 4) == 0 ? '#1f77b4' : (v % 4) == 1 ? '#d62728' : (v % 4) == 2 ? '#2ca02c' : '#ff7f0e'

set multiplot layout 2,2 title sprintf("Learned-score error per noise level, against the exact score of each mixture (standardised data)\nMLP 128×3, %d Adam steps, batch %d, EMA; mean of %d seeds. Solid: s = net/σ; dashed: s = net", STEPS, BATCH, SEEDS)
set logscale xy
set grid
set xlabel 'σ'
set ylabel 'relative error of s_θ (%)'
set yrange [0.5:300]
set key bottom left font ",8" samplen 2 spacing 0.9
do for [k=0:3] {
    set title setname(k)
    if (k == 0) {
        plot for [v=0:3] tab index k using 3:(column(4 + 3*v)) with linespoints pt 6 ps 0.6 lw 1.2 dt 2 lc rgb col(v) title name(v), \
             for [v=4:7] tab index k using 3:(column(4 + 3*v)) with linespoints pt 7 ps 0.6 lw 1.8 dt 1 lc rgb col(v) title name(v)
    } else {
        plot for [v=0:3] tab index k using 3:(column(4 + 3*v)) with linespoints pt 6 ps 0.6 lw 1.2 dt 2 lc rgb col(v) notitle, \
             for [v=4:7] tab index k using 3:(column(4 + 3*v)) with linespoints pt 7 ps 0.6 lw 1.8 dt 1 lc rgb col(v) notitle
    }
}
unset multiplot

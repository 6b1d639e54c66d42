# ex4_animation.gp - seed 001 exercise 4: an animated GIF of the Swiss roll's score field as sigma falls
# from 5 to 0.01 (37 frames): exact score of the smoothed training set | learned score | relative error.
# Also writes ex4_animation.png: frames 0, 18 and 36 side by side (exact above, network below).
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/ex4_animation.gp   (DIR holds ex4_*.dat)
# Every number in a title is read from ex4_frames.dat, written by exercises/ex4_animation.c.
# Arrows are unit directions (0.8 of a grid cell); colour is log10 |s|, on one scale for all frames.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'

fr = data.'/ex4_frames.dat'
# ex4_frames.dat: frame sigma trained err_noisy err_grid log10|s|_min log10|s|_max steps
stats fr using 1 nooutput; NF = int(STATS_max) + 1
stats fr using 6 nooutput; CBLO = STATS_min
stats fr using 7 nooutput; CBHI = STATS_max
stats fr every ::0::0 using 8 nooutput; STEPS = STATS_max
array SIG[NF]; array TR[NF]; array EN[NF]; array EG[NF]
do for [f=0:NF-1] {
    stats fr every ::f::f using 2 nooutput; SIG[f+1] = STATS_max
    stats fr every ::f::f using 3 nooutput; TR[f+1] = STATS_max
    stats fr every ::f::f using 4 nooutput; EN[f+1] = STATS_max
    stats fr every ::f::f using 5 nooutput; EG[f+1] = STATS_max
}
frame(f) = sprintf('%s/ex4_frame_%02d.dat', data, f)
h = 0.8 * 5.0 / 20            # arrow length: 0.8 of a grid cell
nrm(a, b) = sqrt(a*a + b*b)
set palette defined (0 '#313695', 1 '#4575b4', 2 '#74add1', 3 '#fdae61', 4 '#f46d43', 5 '#a50026')
set cbrange [floor(CBLO):ceil(CBHI)]

# ---- the animation ----
set terminal gif animate delay 10 loop 0 size 1200,430 font 'sans,9'
set output out.'/ex4_animation.gif'
do for [f=0:NF-1] {
    set cbrange [floor(CBLO):ceil(CBHI)]
    set multiplot layout 1,3 title sprintf("Score of the Swiss roll at sigma = %.4f (frame %d of %d, %s)", \
        SIG[f+1], f + 1, NF, TR[f+1] > 0.5 ? 'a training level' : 'between training levels')
    set size ratio -1
    set xrange [-2.6:2.6]
    set yrange [-2.6:2.6]
    set xlabel 'x_1'
    set ylabel 'x_2'
    set cblabel 'log10 |s|'
    set title 'exact: training set smoothed by N(0, sigma^2 I)'
    plot data.'/ex4_data.dat' using 1:2 with points pt 7 ps 0.15 lc rgb '#e0e0e0' notitle, \
         frame(f) using ($1 - h/2*$3/nrm($3,$4)):($2 - h/2*$4/nrm($3,$4)):(h*$3/nrm($3,$4)):(h*$4/nrm($3,$4)):(log10(nrm($3,$4))) \
         with vectors head size 0.05,25 filled lw 1.5 lc palette notitle
    set title sprintf('network (%d Adam steps, s = net/sigma)', STEPS)
    plot data.'/ex4_data.dat' using 1:2 with points pt 7 ps 0.15 lc rgb '#e0e0e0' notitle, \
         frame(f) using ($1 - h/2*$5/nrm($5,$6)):($2 - h/2*$6/nrm($5,$6)):(h*$5/nrm($5,$6)):(h*$6/nrm($5,$6)):(log10(nrm($5,$6))) \
         with vectors head size 0.05,25 filled lw 1.5 lc palette notitle
    set size noratio
    set autoscale
    set logscale x
    set xrange [6.5:0.008]
    set yrange [0:1.1]
    set xlabel 'sigma (falling to the right)'
    set ylabel 'mean |s_{net} - s_{exact}| / mean |s_{exact}|'
    set title sprintf("relative error: %.3f at noisy data, %.3f on the grid", EN[f+1], EG[f+1])
    set key bottom right
    set grid
    plot fr using 2:4 with lines lw 2 lc rgb '#1f77b4' title 'at noisy data x + sigma z', \
         fr using 2:5 with lines lw 2 lc rgb '#ff7f0e' title 'on the grid', \
         fr using ($3 > 0.5 ? $2 : NaN):4 with points pt 7 ps 0.8 lc rgb '#1f77b4' title 'training levels', \
         '+' using (SIG[f+1]):(EN[f+1]) every ::0::0 with points pt 6 ps 2.5 lw 2 lc rgb 'black' title 'this frame'
    unset logscale x
    unset grid
    set xrange [*:*]
    unset multiplot
}
unset output

# ---- three frames as a still ----
set terminal pngcairo size 1000,720 font ',9'
set output out.'/ex4_animation.png'
set cbrange [floor(CBLO):ceil(CBHI)]
set multiplot layout 2,3 title sprintf("Score field of the Swiss roll as sigma falls (arrows: direction; colour: log10 |s|); network trained %d Adam steps", STEPS)
set size ratio -1
set xrange [-2.6:2.6]
set yrange [-2.6:2.6]
set xlabel 'x_1'
set ylabel 'x_2'
set cblabel 'log10 |s|'
do for [row=0:1] {
    do for [k=0:2] {
        f = k * (NF - 1) / 2
        c1 = row == 0 ? 3 : 5
        if (row == 0) { set title sprintf("exact: training set smoothed by N(0, sigma^2 I)\nsigma = %.4f", SIG[f+1]) }
        if (row == 1) { set title sprintf("network, sigma = %.4f\nrelative error at noisy data %.3f", SIG[f+1], EN[f+1]) }
        plot data.'/ex4_data.dat' using 1:2 with points pt 7 ps 0.15 lc rgb '#e0e0e0' notitle, \
             frame(f) using ($1 - h/2*column(c1)/nrm(column(c1),column(c1+1))):($2 - h/2*column(c1+1)/nrm(column(c1),column(c1+1))): \
                            (h*column(c1)/nrm(column(c1),column(c1+1))):(h*column(c1+1)/nrm(column(c1),column(c1+1))): \
                            (log10(nrm(column(c1),column(c1+1)))) with vectors head size 0.05,25 filled lw 1.5 lc palette notitle
    }
}
unset multiplot

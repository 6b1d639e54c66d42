# seed001_fields.gp - seed 001 sec. 5.2: multi-scale score fields (4 of the levels, 15 x 15 grid).
# Data: fig_seed001 (f1_field<k>.dat, f1_data.dat, f1.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed001_fields.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f1.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed001_fields.png'
array S[4] = [sigma0, sigma1, sigma2, sigma3]
array I[4] = [level0, level1, level2, level3]
array A[4] = [angle0, angle1, angle2, angle3]
set multiplot title sprintf("Seed 001: score fields of the NCSNScoreNetwork (%d steps) on the Swiss roll at %d of its %d levels.\nUnit arrows coloured by log_{10}||s_θ||; grey: exact directions (the %d training points, light blue, smoothed by σ)", \
    steps, n_show, L, n_data)
set size ratio -1
set xrange [-3.3:3.3]
set yrange [-3.3:3.3]
set palette defined (0 '#2040a0', 1 '#20a0a0', 2 '#f0c020', 3 '#e03020')
set cbrange [-1:4]
set cblabel 'log_{10} ||s_θ(x, σ)||'
set colorbox user origin 0.9, 0.15 size 0.025, 0.65
set xtics 1 font ',9'
set ytics 1 font ',9'
unset key
set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0
a = 0.3
do for [k=1:4] {
  set origin ((k-1)%2)*0.44 + 0.04, (k<=2 ? 0.50 : 0.04)
  set size 0.42, 0.36
  set title sprintf("level %d, σ = %.3g: median angle to exact %.1f°", I[k], S[k], A[k]) offset 0,-0.5
  f = sprintf('%s/f1_field%d.dat', data, k-1)
  plot data.'/f1_data.dat' using 1:2 with points pt 7 ps 0.12 lc rgb '#7fb2dd', \
       f using 1:2:(a*$6):(a*$7) with vectors nohead lw 3.5 lc rgb '#d0d0d0', \
       f using 1:2:(a*$3):(a*$4):5 with vectors head size 0.08,25 filled lw 1.5 lc palette
}
unset multiplot

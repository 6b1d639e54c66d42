# seed000_score_fields.gp - seed 000, figure 7: learned score fields from coarse to fine.
# Data: fig_seed000 (f0_field<k>.dat, f0_data.dat, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_score_fields.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_score_fields.png'
array S[4] = [f_sigma0, f_sigma1, f_sigma2, f_sigma3]
array A[4] = [f_angle0, f_angle1, f_angle2, f_angle3]
set multiplot title sprintf("Learned score fields s_θ(x, σ) of the trained ScoreNet (%d steps): unit arrows coloured by log_{10}||s_θ||,\nover the exact directions of ∇log q_σ (grey) and the data (light blue); titles: median angle between the two", steps)
set size ratio -1
set xrange [-8.5:8.5]
set yrange [-6.5:6.5]
set palette defined (0 '#2040a0', 1 '#20a0a0', 2 '#f0c020', 3 '#e03020')
set cbrange [-2:1.5]
set cblabel 'log_{10} ||s_θ(x, σ)||'
set colorbox user origin 0.9, 0.15 size 0.025, 0.65
set xtics 4 font ',9'
set ytics 2 font ',9'
unset key
set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0
a = 0.8
do for [k=1:4] {
  set origin ((k-1)%2)*0.44 + 0.04, (k<=2 ? 0.50 : 0.04)
  set size 0.42, 0.35
  set title sprintf("σ = %g: median angle %.1f°", S[k], A[k]) offset 0,-0.5
  f = sprintf('%s/f0_field%d.dat', data, k-1)
  plot data.'/f0_data.dat' using 1:2 with points pt 7 ps 0.15 lc rgb '#7fb2dd', \
       f using 1:2:(a*$6):(a*$7) with vectors nohead lw 3.5 lc rgb '#d8d8d8', \
       f using 1:2:(a*$3):(a*$4):5 with vectors head size 0.2,25 filled lw 1.5 lc palette
}
unset multiplot

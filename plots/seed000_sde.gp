# seed000_sde.gp - seed 000, figure 9: NCSN's levels, the VE SDE they discretise, and DDPM's schedule.
# Data: fig_seed000 (f0_sde_*.dat, f0.key). Run: gnuplot -e "data='DIR'; out='OUTDIR'" plots/seed000_sde.gp
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load data.'/f0.key'
set encoding utf8
set terminal pngcairo size 900,700 enhanced font 'DejaVu Sans,11'
set output out.'/seed000_sde.png'
set title sprintf("NCSN's L = %d levels are samples of the VE SDE's noise level σ(t) = σ_{min} (σ_{max}/σ_{min})^t, σ_{min} = %g, σ_{max} = %g;\nDDPM (β_t linear %g → %g, T = %d) as a noise level √((1-ᾱ_t)/ᾱ_t) on x_t/√ᾱ_t: from %.4f to %.1f", \
    sch_L, sch_min, sch_max, ddpm_b1, ddpm_bT, ddpm_T, ddpm_smin, ddpm_smax)
set xlabel 'time t  (NCSN level i at t = (L-i)/(L-1); DDPM step k at t = k/T)'
set ylabel 'noise level σ  (log scale)'
set logscale y
set format y '10^{%L}'
set yrange [0.003:500]
set xrange [0:1]
set grid
set key top left
plot data.'/f0_sde_curve.dat' using 1:2 with lines lw 2 lc rgb '#1f78b4' title 'VE SDE σ(t) (continuous)', \
     data.'/f0_sde_ncsn.dat' using 1:2 with points pt 7 ps 1.6 lc rgb '#e31a1c' title 'NCSN levels σ_i', \
     data.'/f0_sde_ncsn.dat' using 1:2:(sprintf('σ_{%d}', $3)) with labels offset 0,1.1 font ',9' notitle, \
     data.'/f0_sde_ddpm.dat' using 1:2 with lines lw 2 dt 2 lc rgb '#33a02c' title 'DDPM √((1-ᾱ_t)/ᾱ_t)'

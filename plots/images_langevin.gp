# images_langevin.gp - annealed Langevin snapshots of 6 chains, from N(0, sigma_1^2 I) to images.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/images_langevin.gp   (DIR holds images_*.dat)
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load 'plots/images_common.gpi'
lv = data.'/images_langevin_levels.dat'
array S[9]
do for [k=0:8] { stats lv every ::k::k using 2 nooutput; S[k+1] = STATS_max }
set terminal pngcairo size 1000,680 font ',10'
set output out.'/images_langevin.png'
set tmargin 5
set title sprintf("annealed Langevin, 6 chains: the end of levels with sigma = %.3g, %.3g, %.3g, %.3g, %.3g, %.3g, %.3g, %.3g, %.3g, then denoised\n(%d levels x %d steps, clamped to [0, 1] for display)", \
    S[1], S[2], S[3], S[4], S[5], S[6], S[7], S[8], S[9], L, T)
plot data.'/images_langevin.dat' matrix with image notitle

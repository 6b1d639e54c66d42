# images_nearest.gp - 16 samples (top) above their nearest training images (bottom): memorisation check.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/images_nearest.gp   (DIR holds images_*.dat)
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load 'plots/images_common.gpi'
set terminal pngcairo size 1200,300 font ',10'
set output out.'/images_nearest.png'
set title sprintf("samples (top) and their nearest training images (bottom, L2 over %d)\nclosest sample %.2f from its nearest; median test image %.2f; %d of %d samples closer than half that", \
    NTRAIN, MINS, MEDTEST, CLOSE, NS)
plot data.'/images_nearest.dat' matrix with image notitle

# images_samples.gp - 64 samples of the MLP NCSN trained on Fashion-MNIST (images/images.c).
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/images_samples.gp   (DIR holds images_*.dat)
# Every number in the title is read from images_summary.dat.
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load 'plots/images_common.gpi'
set terminal pngcairo size 760,860 font ',10'
set output out.'/images_samples.png'
set title sprintf("Fashion-MNIST, %dx%d MLP NCSN, %d steps on %d images;\nsampled with %s\nFD %.1f (held-out floor %.1f, fitted Gaussian %.1f); classes %.1f-%.1f %%", \
    WIDTH, DEPTH, STEPS, NTRAIN, SAMPLER, FD, FLOOR, GAUSS, 100*SMIN, 100*SMAX)
plot data.'/images_samples.dat' matrix with image notitle

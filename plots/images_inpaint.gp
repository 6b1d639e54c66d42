# images_inpaint.gp - inpainting test images (Song & Ermon 2019, Fig. 6): rows: the test image,
# lower half hidden, its completion, centre square hidden, its completion.
# usage: gnuplot -e "data='DIR'; out='OUTDIR'" plots/images_inpaint.gp   (DIR holds images_*.dat)
if (!exists("data")) data = 'plots/out/data'
if (!exists("out")) out = 'plots/out'
load 'plots/images_common.gpi'
set terminal pngcairo size 760,560 font ',10'
set output out.'/images_inpaint.png'
set title sprintf("inpainting test images: original; lower half hidden; completed; centre hidden; completed\nlower half: the classifier (test accuracy %.1f %%) gives %.1f %% of the completions the hidden image's label", \
    100*ACC, 100*AGREE)
plot data.'/images_inpaint.dat' matrix with image notitle

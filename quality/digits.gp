# digits.gp - 100 samples of the 8x8 digits model as a 10 x 10 grid (make quality)
set terminal pngcairo size 640,640
set output out
unset key; unset border; unset xtics; unset ytics; unset colorbox
set size ratio -1
set palette gray negative
set cbrange [0:16]
set yrange [*:*] reverse
set title "ncsn: 100 samples, sklearn digits (ncsn train defaults)"
plot data using 1:2:3 with image

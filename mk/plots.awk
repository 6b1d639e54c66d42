# mk/plots.awk - the numbers the seed examples print, as a gnuplot key file ("name = value" lines)
# for the titles of plots/seed000_samples.gp and plots/seed001_samples.gp. Used by mk/plots.mk:
#   awk -v steps=N -f mk/plots.awk LOG > KEY
# Reads the first sampling report of seed000_two_gaussians (the seed's eps) or seed001_swiss_roll;
# fails (exit 1) if a line it needs is missing, so a changed log format cannot go unnoticed.
/parameters\)/ && !h {
    h = 1
    s = $0; sub(/^[^:]*: /, "", s); sub(/, kernels.*/, "", s); gsub(/"/, "", s); arch = s
}
/chains diverged/ && !a {
    a = 1; n = $1
    s = $0; sub(/ levels.*/, "", s); sub(/.* /, "", s); levels = s
    s = $0; sub(/ steps.*/, "", s); sub(/.* /, "", s); T = s
    s = $0; sub(/ chains diverged.*/, "", s); d = s; sub(/.* /, "", d)
    s = $0; sub(/.* eps /, "", s); eps = s + 0
}
/energy distance/ && !b {
    b = 1
    s = $0; sub(/.*samples vs [^0-9]*/, "", s); ed = s + 0
    s = $0; sub(/.*\(floor\) /, "", s); edf = s + 0
}
/nearest training point/ && !c {
    c = 1
    s = $0; sub(/.*samples /, "", s); nn = s + 0
    s = $0; sub(/.*fresh data /, "", s); nnf = s + 0
}
END {
    if (!a || !b) { print "plots.awk: no sampling report in " FILENAME > "/dev/stderr"; exit 1 }
    if (!h) { print "plots.awk: no model line in " FILENAME > "/dev/stderr"; exit 1 }
    printf "arch = \"%s\"\nsteps = %s\nn_chains = %s\neps = %g\nlevels = %s\nT = %s\n", arch, steps, n, eps, levels, T
    printf "diverged = %s\ned = %s\ned_floor = %s\n", d, ed, edf
    if (c) printf "nn = %s\nnn_fresh = %s\n", nn, nnf
}

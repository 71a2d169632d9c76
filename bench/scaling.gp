# Wall time of the Cascade replay against ranks, strong and weak scaling.
# usage: gnuplot -e "strong='s.csv'; weak='w.csv'; out='x.png'" bench/scaling.gp
# where s.csv and w.csv are the strong and weak rows of scaling.csv.
set terminal pngcairo size 800,500
set output out
set datafile separator ","
set key top left
set xlabel "ranks (more than 2 oversubscribe this 2-core machine)"
set ylabel "wall time (s)"
set logscale x 2
set xrange [0.8:5]
set yrange [0:*]
set grid
plot strong using 2:4 with linespoints lw 2 title "strong: 1,000,000 workloads", \
     weak using 2:4 with linespoints lw 2 title "weak: 250,000 workloads per rank"

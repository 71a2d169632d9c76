# Wall time of the Cascade replay against ranks, strong and weak scaling.
# usage: gnuplot -e "csv='bench/results/scaling.csv'; out='x.png'" bench/scaling.gp
set terminal pngcairo size 800,500
set output out
set datafile separator ","
set key autotitle columnhead top left
set xlabel "ranks"
set ylabel "wall time (s)"
set logscale x 2
set grid
plot csv using (strcol(1) eq "strong" ? $2 : 1/0):4 with linespoints title "strong: 1,000,000 workloads", \
     csv using (strcol(1) eq "weak" ? $2 : 1/0):4 with linespoints title "weak: 250,000 workloads per rank"

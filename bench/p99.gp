# p99 publish->delivery latency against publish rate, comet-gateway vs nchan.
# Input: rate.dat written by `comet_bench rate` (BUILD/bench-results/rate.dat).
#   gnuplot -e "data='build/bench-results/rate.dat'; out='docs/p99-latency.png'" bench/p99.gp
if (!exists("data")) data = 'build/bench-results/rate.dat'
if (!exists("out")) out = 'docs/p99-latency.png'
set terminal pngcairo size 900,560 noenhanced font ",11"
set output out
set title "p99 publish-to-delivery latency, 100 channels x 10 long-poll subscribers (1 nginx worker, 2 cores)"
set xlabel "publish rate (messages/s)"
set ylabel "p99 latency (ms, log scale)"
set logscale xy
set xrange [700:30000]
set grid
set key top left
set xtics ("1k" 1000, "2k" 2000, "5k" 5000, "10k" 10000, "20k" 20000)
plot data using 1:2 with linespoints lw 2 pt 7 title "nchan (one message per response)", \
     data using 1:3 with linespoints lw 2 pt 5 title "comet-gateway (batched, unix socket)"

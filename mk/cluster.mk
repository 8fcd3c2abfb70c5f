# Cluster area: live_load_cluster (providers peer/ssh/nodes, code push, sizing, amoc join) and the
# collector's periodic pulls. Tests: test/live_load_cluster_SUITE (part of `make ct`; its amoc
# cases run when ERL_LIBS holds amoc, its ssh case starts its own sshd).
.PHONY: bench-cluster cluster-test

bench-cluster: build ## cluster: formation/teardown time of 1, 4, 16 local peer nodes (path, push; amoc if on ERL_LIBS)
	@bash bench/cluster/run.sh

cluster-test: build ## cluster suite only (ERL_LIBS=<amoc build> to run its amoc cases too)
	$(REBAR) ct --suite test/live_load_cluster_SUITE

BENCH_STEPS += bench-cluster

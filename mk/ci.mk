# Load tests in CI (issue #12): thresholds, JUnit, saved runs, compare, trend, per-user data,
# Prometheus (guides/ci.md). `make ci-check` runs test/ci/ci_check.sh: the run: steps of the
# guide's GitHub Actions / GitLab CI examples, read from the guide, with the guide's values
# (8 users, 60 s per run: about 4 min; CI_USERS, CI_DURATION, CI_LATENCY_MS, CI_OUT).
.PHONY: ci-check ci-test

ci-check: build ## run the CI examples' steps of guides/ci.md locally (thresholds, JUnit, saved runs, compare, trend)
	bash test/ci/ci_check.sh

ci-test: build ## the CI suite (data feeder with Chromium, thresholds, abort_on_fail, Prometheus, ci_check.sh, trend)
	$(REBAR) ct --suite test/live_load_ci_SUITE

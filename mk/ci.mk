# Load tests in CI (issue #12): thresholds, JUnit, saved runs, compare, trend, per-user data,
# Prometheus (guides/ci.md). `make ci-check` runs test/ci/ci_check.sh: the steps of the guide's
# GitHub Actions / GitLab CI examples against the demo target (~1 min; CI_USERS, CI_DURATION,
# CI_LATENCY_MS, CI_MAX_REGRESSION, CI_MIN_DELTA, CI_OUT).
.PHONY: ci-check ci-test

ci-check: build ## run the CI example's steps locally (thresholds, JUnit, saved runs, compare, trend)
	bash test/ci/ci_check.sh

ci-test: build ## the CI suite (data feeder with Chromium, thresholds, Prometheus, ci_check.sh)
	$(REBAR) ct --suite test/live_load_ci_SUITE

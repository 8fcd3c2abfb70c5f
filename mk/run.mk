# Runner, engine, CLI and the demo run (guides/scenarios.md, guides/cli.md).
# `make demo` settings: PORT (default: a free port), DEMO_USERS, DEMO_DURATION (per scenario),
# DEMO_DIR, DEMO_HYBRID_BROWSER (4) + DEMO_HYBRID_PROTOCOL (500) for the hybrid run (#13);
# e.g. `make demo DEMO_USERS=4 DEMO_DURATION=20s`.
DEMO_USERS ?= 8
DEMO_DURATION ?= 45s
DEMO_DIR ?= _demo
DEMO_HYBRID_BROWSER ?= 4
DEMO_HYBRID_PROTOCOL ?= 500
# PORT only when the user gave it (mk/demo_target.mk defaults it to 4000 for `make demo-target`)
DEMO_PORT = $(if $(filter-out file default undefined,$(origin PORT)),$(PORT),)

demo: build ## start the demo LiveView target, run scenarios/ (8 users, 60 s each), write _demo/ and print the summary
	@PORT="$(DEMO_PORT)" DEMO_USERS="$(DEMO_USERS)" DEMO_DURATION="$(DEMO_DURATION)" DEMO_DIR="$(DEMO_DIR)" \
	  DEMO_HYBRID_BROWSER="$(DEMO_HYBRID_BROWSER)" DEMO_HYBRID_PROTOCOL="$(DEMO_HYBRID_PROTOCOL)" \
	  bash bin/live_load_demo

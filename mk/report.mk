# HTML report: the SPA in assets/report/ is built with npm (Vite + uPlot) into ONE self-contained
# page, priv/report/template.html, which is committed: rendering a report needs no Node.
.PHONY: assets report-test

REPORT_ASSETS := assets/report

assets: setup ## rebuild priv/report/template.html from assets/report (npm ci + vite build)
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("assets: Vite 8 needs Node >= 20.19, this is " + process.version); process.exit(1) }'
	cd $(REPORT_ASSETS) && npm ci --no-audit --no-fund --loglevel=error && npx vite build
	mkdir -p priv/report
	cp $(REPORT_ASSETS)/dist/index.html priv/report/template.html
	@echo "assets: priv/report/template.html $$(wc -c < priv/report/template.html) bytes"

report-test: build ## HTML report suite (renders results, checks them in headless Chromium)
	$(REBAR) ct --suite test/live_load_report_html_SUITE

-module(live_load_amoc_engine).
-export([run_local/2, run_distributed/2, stop/0]).
-spec run_local(module(), map()) -> {ok, map()} | {error, term()}.
run_local(_S, _Run) -> {error, not_implemented}.
-spec run_distributed(module(), map()) -> {ok, map()} | {error, term()}.
run_distributed(_S, _Run) -> {error, not_implemented}.
-spec stop() -> ok.
stop() -> ok.

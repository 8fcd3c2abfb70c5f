%% Scenario of the reliability suite: `run/3' calls the config's `script' (a fun of the context
%% and the user id) so one module serves every row. A `script' that is not a fun of arity 2 is
%% called anyway: that is how the suite makes run/3 raise.
-module(live_load_reliability_scenario).
-behaviour(live_load_scenario).
-export([config_keys/0, run/3]).

config_keys() -> [script, base_url].

run(Ctx, UserId, #{script := Script}) ->
    Script(Ctx, UserId).

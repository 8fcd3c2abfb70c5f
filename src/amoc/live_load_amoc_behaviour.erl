%% @doc A core transform that marks a module `-behaviour(amoc_scenario)' after the linter ran,
%% so that live_load's own amoc scenarios (`live_load_amoc_runner') compile without amoc on the
%% code path (OTP 25 has no option to silence "behaviour amoc_scenario undefined", and the
%% build treats warnings as errors). amoc recognises a scenario by that attribute only.
%% Scenario modules of users, built with amoc as a dependency, use the plain attribute
%% (`include/live_load_amoc.hrl').
-module(live_load_amoc_behaviour).

-export([core_transform/2]).

-spec core_transform(cerl:c_module(), [compile:option()]) -> cerl:c_module().
core_transform(Mod, _Opts) ->
    Attr = {cerl:c_atom(behaviour), cerl:abstract([amoc_scenario])},
    cerl:update_c_module(Mod, cerl:module_name(Mod), cerl:module_exports(Mod),
                         cerl:module_attrs(Mod) ++ [Attr], cerl:module_defs(Mod)).

%% @doc Test support: the checkout the tests run from, for the suites that start bin/live_load,
%% the demo target or read guides/: LIVE_LOAD_ROOT (set by the Makefile) or the first directory
%% above this module (in rebar3's _build) that holds bin/live_load.
-module(live_load_test_checkout).

-export([root/0]).

-spec root() -> file:filename().
root() ->
    case os:getenv("LIVE_LOAD_ROOT") of
        false -> up(filename:dirname(filename:absname(code:which(?MODULE))));
        R -> R
    end.

up("/") -> error(checkout_not_found);
up(Dir) ->
    case filelib:is_regular(filename:join([Dir, "bin", "live_load"])) of
        true -> Dir;
        false -> up(filename:dirname(Dir))
    end.

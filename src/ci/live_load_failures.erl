%% @doc What counts as a failure in the counters, written once: the `failed_rate' of a
%% threshold (`live_load_threshold_eval') and the error rate of `compare' (`live_load_compare')
%% both ask here.
%%
%% <ul>
%% <li>`iterations': an iteration with `result=failed' failed (`ok' and `halted' did not).</li>
%% <li>`http.requests': a request without a response (`status=failed') or with a status outside
%%     200..399 failed, as k6's `http_req_failed' with its default expected statuses
%%     (`http.expectedStatuses({min: 200, max: 399})'). A status that is not a number (the
%%     dimension overflow value `other') is not counted as failed.</li>
%% </ul>
%% Other counters have no failed share. Some counters count failures themselves (a higher rate
%% is worse): {@link counts_failures/1}. See `guides/ci.md'.
-module(live_load_failures).

-export([has_failed_share/1]).
-export([failed/2]).
-export([failed_value/3]).
-export([counts_failures/1]).

%% @doc Whether `Counter' has a failed share (`failed_rate', compare's error rate).
-spec has_failed_share(binary()) -> boolean().
has_failed_share(<<"iterations">>) -> true;
has_failed_share(<<"http.requests">>) -> true;
has_failed_share(_) -> false.

%% @doc Whether increments of `Counter' recorded with the dimensions `Dims' are failures.
-spec failed(binary(), #{binary() => binary()}) -> boolean().
failed(Counter, Dims) ->
    lists:any(fun({K, V}) -> failed_value(Counter, K, V) end, maps:to_list(Dims)).

%% @doc Whether the dimension value `Key=Value' of `Counter' marks failures.
-spec failed_value(binary(), binary(), binary()) -> boolean().
failed_value(<<"iterations">>, <<"result">>, <<"failed">>) -> true;
failed_value(<<"http.requests">>, <<"status">>, <<"failed">>) -> true;
failed_value(<<"http.requests">>, <<"status">>, Status) ->
    case string:to_integer(Status) of
        {N, <<>>} -> N < 200 orelse N >= 400;
        _ -> false
    end;
failed_value(_, _, _) -> false.

%% @doc Counters whose every increment is a failure or a loss (`guides/events.md'): for them a
%% higher rate is worse.
-spec counts_failures(binary()) -> boolean().
counts_failures(Counter) ->
    lists:member(Counter, [<<"liveview.events_lost">>, <<"liveview.disconnects">>, <<"liveview.errors">>,
                           <<"page.js_errors">>, <<"page.crashes">>, <<"observer.dropped">>,
                           <<"events.invalid">>, <<"http.failures">>]).

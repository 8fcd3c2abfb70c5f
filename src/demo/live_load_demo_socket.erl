%% @doc The Phoenix socket (serializer V2, `vsn=2.0.0') as seen by one transport process: decodes
%% `[join_ref, ref, topic, event, payload]' frames, answers `heartbeat' on `phoenix', starts one
%% {@link live_load_demo_view} per `lv:*' join, routes pushes to it, and turns a view's exit into
%% `phx_error' (crash) or `phx_close' (duplicate join). Shared by the WebSocket connection and
%% the long-poll session, so both transports behave the same.
%%
%% Strictness: a frame that is not that 5-element array, or a topic outside `phoenix' and
%% `lv:*', is a protocol error and the caller closes the connection (Phoenix would answer
%% "unmatched topic"; closing keeps a misbehaving client from lingering). A push on an `lv:'
%% topic that is not joined gets Phoenix's `{reason: "unmatched topic"}' error reply.
-module(live_load_demo_socket).

-export([new/0]).
-export([handle_text/2]).
-export([handle_info/2]).

-define(MAX_CHANNELS, 64).
-define(MAX_TOPIC, 128).

-opaque state() :: #{topics := #{binary() => {term(), pid(), reference()}},
                     mons := #{reference() => binary()}}.
-type error() :: bad_frame | invalid_json | {unknown_topic, binary()} | too_many_channels.
-export_type([state/0, error/0]).

%% @doc A socket with no joined channels.
-spec new() -> state().
new() -> #{topics => #{}, mons => #{}}.

%% @doc Handles one text frame from the client; returns the frames to send back now.
-spec handle_text(binary(), state()) -> {ok, [iodata()], state()} | {error, error()}.
handle_text(Bin, S) ->
    case live_load_json:decode(Bin) of
        {ok, [JoinRef, Ref, Topic, Event, Payload]}
          when (is_binary(JoinRef) orelse JoinRef =:= null), (is_binary(Ref) orelse Ref =:= null),
               is_binary(Topic), byte_size(Topic) =< ?MAX_TOPIC, is_binary(Event), is_map(Payload) ->
            message(JoinRef, Ref, Topic, Event, Payload, S);
        {ok, _} -> {error, bad_frame};
        {error, {invalid_json, _, _}} -> {error, invalid_json}
    end.

message(JoinRef, Ref, <<"phoenix">>, <<"heartbeat">>, _, S) ->
    {ok, [reply(JoinRef, Ref, <<"phoenix">>, ok, #{})], S};
message(JoinRef, Ref, <<"lv:", _/binary>> = Topic, <<"phx_join">>, Payload, #{topics := Ts} = S) ->
    {Out, S1} = case Ts of
                    #{Topic := {OldJoinRef, _, _}} ->
                        {[control(OldJoinRef, Topic, <<"phx_close">>)], drop(Topic, S)};
                    _ -> {[], S}
                end,
    case map_size(maps:get(topics, S1)) >= ?MAX_CHANNELS of
        true -> {error, too_many_channels};
        false ->
            case live_load_demo_view:start(self(), Topic, JoinRef, Ref, Payload) of
                {ok, Pid} ->
                    MRef = erlang:monitor(process, Pid),
                    #{topics := Ts1, mons := Ms1} = S1,
                    {ok, Out, S1#{topics := Ts1#{Topic => {JoinRef, Pid, MRef}}, mons := Ms1#{MRef => Topic}}};
                {error, Reason} ->
                    {ok, Out ++ [reply(JoinRef, Ref, Topic, error,
                                       #{<<"reason">> => iolist_to_binary(io_lib:format("~p", [Reason]))})], S1}
            end
    end;
message(JoinRef, Ref, <<"lv:", _/binary>> = Topic, <<"phx_leave">>, _, S) ->
    {ok, [reply(JoinRef, Ref, Topic, ok, #{})], drop(Topic, S)};
message(JoinRef, Ref, <<"lv:", _/binary>> = Topic, Event, Payload, #{topics := Ts} = S) ->
    case Ts of
        #{Topic := {JoinRef, Pid, _}} ->
            live_load_demo_view:push(Pid, Ref, Event, Payload),
            {ok, [], S};
        _ ->
            {ok, [reply(JoinRef, Ref, Topic, error, #{<<"reason">> => <<"unmatched topic">>})], S}
    end;
message(_, _, Topic, _, _, _) ->
    {error, {unknown_topic, Topic}}.

%% @doc Handles a message the transport process received; `unknown' if it is not ours.
-spec handle_info(term(), state()) -> {ok, [iodata()], state()} | unknown.
handle_info({'DOWN', MRef, process, _Pid, Reason}, #{mons := Ms, topics := Ts} = S) ->
    case Ms of
        #{MRef := Topic} ->
            {JoinRef, _, _} = maps:get(Topic, Ts),
            S1 = S#{mons := maps:remove(MRef, Ms), topics := maps:remove(Topic, Ts)},
            Event = case Reason of
                        normal -> <<"phx_close">>;
                        shutdown -> <<"phx_close">>;
                        {shutdown, view_crashed} -> <<"phx_error">>;
                        {shutdown, _} -> <<"phx_close">>;
                        _ -> <<"phx_error">>
                    end,
            {ok, [control(JoinRef, Topic, Event)], S1};
        _ -> unknown
    end;
handle_info(_, _) -> unknown.

drop(Topic, #{topics := Ts, mons := Ms} = S) ->
    case Ts of
        #{Topic := {_, Pid, MRef}} ->
            erlang:demonitor(MRef, [flush]),
            live_load_demo_view:leave(Pid),
            S#{topics := maps:remove(Topic, Ts), mons := maps:remove(MRef, Ms)};
        _ -> S
    end.

control(JoinRef, Topic, Event) ->
    live_load_json:encode([JoinRef, JoinRef, Topic, Event, #{}]).

reply(JoinRef, Ref, Topic, Status, Response) ->
    live_load_json:encode([JoinRef, Ref, Topic, <<"phx_reply">>,
                                #{<<"status">> => atom_to_binary(Status), <<"response">> => Response}]).

%% @doc How live_load's code (and amoc's) gets onto a worker node.
%%
%% By code path ({@link path_args/0}): a node on this machine is started with `-pa' for every
%% directory of the master's code path outside OTP, so it loads the same files.
%%
%% By push ({@link push/2}): for each application, its `ebin' (beams and `.app') and its whole
%% `priv' (port program, NIF `.so', `observer.js', report template; file modes kept, so the
%% port stays executable) are sent from the master in one call and written on the worker by
%% {@link unpack/2} (this module, loaded there first: it needs only Erlang/OTP), into
%% `<worker tmp>/live_load_code_<master>_<unique>/<app>/{ebin,priv}'; that `ebin' is put first
%% on the worker's code path and its modules are loaded at once (`code:atomic_load/1'). As the
%% directory is named after the application, `code:priv_dir(live_load)' on the worker is the
%% copied `priv', where the NIF and the port are found. The worker needs only Erlang/OTP:
%% nothing of live_load has to be installed there. {@link remove/2} deletes the directory.
-module(live_load_cluster_code).

-export([host/0]).
-export([path_args/0]).
-export([push/2]).
-export([unpack/2]).
-export([remove/2]).
-export([start_app/1]).

-define(CALL_TIMEOUT, 30000).

%% @doc This node's host part (what follows `@' in its name).
-spec host() -> string().
host() ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Host.

%% @doc `["-pa", Dir, ...]' for the master's code path outside OTP's own library directory.
-spec path_args() -> [string()].
path_args() ->
    Otp = code:lib_dir(),
    Dirs = [D || D <- code:get_path(), D =/= ".", not lists:prefix(Otp, D)],
    lists:append([["-pa", D] || D <- Dirs]).

%% @doc Copy `Apps' from the master onto `Node' and load their modules there; returns the
%% directory made on the node.
-spec push(node(), [atom()]) -> {ok, file:filename()} | {error, term()}.
push(Node, Apps) ->
    try
        Tmp = case erpc:call(Node, os, getenv, ["TMPDIR"], ?CALL_TIMEOUT) of
                  false -> "/tmp";
                  T -> T
              end,
        Root = filename:join(Tmp, "live_load_code_" ++ atom_to_list(node()) ++ "_"
                             ++ integer_to_list(erlang:unique_integer([positive]))),
        %% this module on the worker first: it writes the files there
        {?MODULE, Self, _} = code:get_object_code(?MODULE),
        SelfFile = filename:join([Root, "live_load", "ebin", atom_to_list(?MODULE) ++ ".beam"]),
        {module, ?MODULE} = erpc:call(Node, code, load_binary, [?MODULE, SelfFile, Self], ?CALL_TIMEOUT),
        _ = [push_app(Node, App, Root) || App <- Apps],
        {ok, Root}
    catch
        throw:{push_failed, App, Why} -> {error, {code_push, App, Why}};
        error:{erpc, Reason} -> {error, {code_push, Reason}};
        error:{exception, Reason, _} -> {error, {code_push, Reason}}
    end.

push_app(Node, App, Root) ->
    case code:lib_dir(App) of
        {error, bad_name} -> throw({push_failed, App, not_on_master});
        Src ->
            Dst = filename:join(Root, atom_to_list(App)),
            Ebin = filename:join(Dst, "ebin"),
            Files = [{Rel, read(Src, Rel), mode(Src, Rel)}
                     || Rel <- files(filename:join(Src, "ebin")) ++ files(filename:join(Src, "priv"))],
            case erpc:call(Node, ?MODULE, unpack, [Dst, Files], ?CALL_TIMEOUT) of
                ok -> ok;
                {error, Why} -> throw({push_failed, App, Why})
            end,
            true = erpc:call(Node, code, add_patha, [Ebin], ?CALL_TIMEOUT),
            load(Node, [{list_to_atom(filename:basename(Rel, ".beam")), filename:join(Dst, Rel), Bin}
                        || {Rel, Bin, _} <- Files, filename:extension(Rel) =:= ".beam",
                           filename:dirname(Rel) =:= "ebin",
                           filename:basename(Rel, ".beam") =/= atom_to_list(?MODULE)])
    end.

%% Regular files under Dir (symbolic links followed), relative to Dir's parent.
files(Dir) ->
    Base = filename:basename(Dir),
    case filelib:is_dir(Dir) of
        true -> [filename:join(Base, F) || F <- filelib:wildcard("**", Dir),
                                           filelib:is_regular(filename:join(Dir, F))];
        false -> []
    end.

read(Src, Rel) ->
    {ok, Bin} = file:read_file(filename:join(Src, Rel)),
    Bin.

mode(Src, Rel) ->
    {ok, Info} = file:read_file_info(filename:join(Src, Rel)),
    element(8, Info) band 8#777.

%% @doc On the worker: writes `{RelativePath, Bytes, Mode}' files under `Dir'.
-spec unpack(file:filename(), [{file:filename(), binary(), non_neg_integer()}]) ->
          ok | {error, {file:filename(), term()}}.
unpack(_Dir, []) ->
    ok;
unpack(Dir, [{Rel, Bin, Mode} | Rest]) ->
    File = filename:join(Dir, Rel),
    case filelib:ensure_dir(File) =:= ok andalso file:write_file(File, Bin) of
        ok ->
            case file:change_mode(File, Mode) of
                ok -> unpack(Dir, Rest);
                {error, Why} -> {error, {File, Why}}
            end;
        false -> {error, {File, cannot_make_dir}};
        {error, Why} -> {error, {File, Why}}
    end.

%% Module names are those of the master's own beam files. All at once with
%% `code:atomic_load/1'; one by one (purging old code) when a node refuses that (a module
%% with old code not purged yet, on a node that had it before).
load(Node, Beams) ->
    case erpc:call(Node, code, atomic_load, [Beams], ?CALL_TIMEOUT) of
        ok -> ok;
        {error, _} ->
            _ = [case erpc:call(Node, code, load_binary, [Mod, File, Bin], ?CALL_TIMEOUT) of
                     {module, Mod} -> ok;
                     {error, Why} -> throw({push_failed, Mod, Why})
                 end || {Mod, File, Bin} <- Beams],
            ok
    end.

%% @doc Delete a directory made by {@link push/2} (nothing when the node is gone).
-spec remove(node(), file:filename()) -> ok.
remove(Node, Dir) ->
    _ = case catch erpc:call(Node, code, get_path, [], ?CALL_TIMEOUT) of
        Path when is_list(Path) ->
            _ = [catch erpc:call(Node, code, del_path, [D], ?CALL_TIMEOUT)
                 || D <- Path, lists:prefix(Dir, D)];
        _ -> ok
    end,
    _ = catch erpc:call(Node, file, del_dir_r, [Dir], ?CALL_TIMEOUT),
    ok.

%% @doc Start the `live_load' application on `Node' (its metrics store, browser supervisor).
-spec start_app(node()) -> ok | {error, term()}.
start_app(Node) ->
    try erpc:call(Node, application, ensure_all_started, [live_load], ?CALL_TIMEOUT) of
        {ok, _} -> ok;
        {error, Reason} -> {error, {app_start, live_load, Reason}}
    catch
        error:{erpc, Reason} -> {error, {app_start, live_load, Reason}}
    end.

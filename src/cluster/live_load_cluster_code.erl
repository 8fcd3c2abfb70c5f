%% @doc How live_load's code (and amoc's) gets onto a worker node.
%%
%% By code path ({@link path_args/0}): a node on this machine is started with `-pa' for every
%% directory of the master's code path outside OTP, so it loads the same files.
%%
%% By push ({@link push/2}): for each application, its `ebin' (beams and `.app') and its whole
%% `priv' (port program, NIF `.so', `observer.js', report template; file modes kept, so the
%% port stays executable) are copied from the master into
%% `<worker tmp>/live_load_code_<unique>/<app>/{ebin,priv}' on the worker; that `ebin' is put
%% first on the worker's code path and every module is loaded with `code:load_binary/3'. As
%% the directory is named after the application, `code:priv_dir(live_load)' on the worker is
%% the copied `priv', where the NIF and the port are found. The worker needs only Erlang/OTP:
%% nothing of live_load has to be installed there. {@link remove/2} deletes the directory.
-module(live_load_cluster_code).

-export([host/0]).
-export([path_args/0]).
-export([push/2]).
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
        _ = [push_app(Node, App, Root) || App <- Apps],
        {ok, Root}
    catch
        throw:{push_failed, App, Why} -> {error, {code_push, App, Why}};
        error:{erpc, Reason} -> {error, {code_push, Reason}}
    end.

push_app(Node, App, Root) ->
    case code:lib_dir(App) of
        {error, bad_name} -> throw({push_failed, App, not_on_master});
        Src ->
            Dst = filename:join(Root, atom_to_list(App)),
            Ebin = filename:join(Dst, "ebin"),
            Files = files(filename:join(Src, "ebin")) ++ files(filename:join(Src, "priv")),
            _ = [copy(Node, Src, Dst, F) || F <- Files],
            true = erpc:call(Node, code, add_patha, [Ebin], ?CALL_TIMEOUT),
            _ = [load(Node, Src, Ebin, F) || F <- Files, filename:extension(F) =:= ".beam",
                                              filename:dirname(F) =:= "ebin"],
            ok
    end.

%% Regular files under Dir (symbolic links followed), relative to Dir's parent.
files(Dir) ->
    Base = filename:basename(Dir),
    case filelib:is_dir(Dir) of
        true -> [filename:join(Base, F) || F <- filelib:wildcard("**", Dir),
                                           filelib:is_regular(filename:join(Dir, F))];
        false -> []
    end.

copy(Node, Src, Dst, Rel) ->
    From = filename:join(Src, Rel),
    To = filename:join(Dst, Rel),
    {ok, Bin} = file:read_file(From),
    {ok, Info} = file:read_file_info(From),
    ok = erpc:call(Node, filelib, ensure_dir, [To], ?CALL_TIMEOUT),
    case erpc:call(Node, file, write_file, [To, Bin], ?CALL_TIMEOUT) of
        ok -> ok;
        {error, Why} -> throw({push_failed, To, Why})
    end,
    ok = erpc:call(Node, file, change_mode, [To, element(8, Info) band 8#777], ?CALL_TIMEOUT).

%% Module names are those of the master's own beam files.
load(Node, Src, Ebin, Rel) ->
    Mod = list_to_atom(filename:basename(Rel, ".beam")),
    File = filename:join(Ebin, filename:basename(Rel)),
    {ok, Bin} = file:read_file(filename:join(Src, Rel)),
    case erpc:call(Node, code, load_binary, [Mod, File, Bin], ?CALL_TIMEOUT) of
        {module, Mod} -> ok;
        {error, Why} -> throw({push_failed, Mod, Why})
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

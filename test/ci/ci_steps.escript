#!/usr/bin/env escript
%% -*- erlang -*-
%% The CI examples of guides/ci.md, read back for test/ci/ci_check.sh so that the script runs
%% what the guide says (the guide and the test cannot drift apart).
%%
%%   escript test/ci/ci_steps.escript guides/ci.md
%%
%% Reads the "### GitHub Actions" and "### GitLab CI" YAML blocks (the subset of YAML they use)
%% and prints NUL-separated records on stdout:
%%   ENV  NAME  VALUE     the GitHub job's env (the same as GitLab's variables)
%%   STEP NAME  COMMAND   every `run:' step of the GitHub job, in order, the command verbatim
%% Exits 1 with a message when the two examples disagree: GitLab's `script:' then
%% `after_script:' commands must be GitHub's `run:' commands, and its variables GitHub's env.
-mode(compile).

main([Guide]) ->
    {ok, Text} = file:read_file(Guide),
    GitHub = lines(yaml_block(Text, <<"### GitHub Actions">>)),
    GitLab = lines(yaml_block(Text, <<"### GitLab CI">>)),
    Env = mapping(GitHub, "    env:"),
    Steps = github_steps(GitHub),
    Vars = mapping(GitLab, "  variables:"),
    Script = list(GitLab, "  script:") ++ list(GitLab, "  after_script:"),
    Checks = [{Env =/= [], "the GitHub job has no env"},
              {Steps =/= [], "the GitHub job has no run: steps"},
              {Env =:= Vars, io_lib:format("GitHub's env ~0p is not GitLab's variables ~0p", [Env, Vars])},
              {[C || {_, C} <- Steps] =:= Script,
               io_lib:format("GitLab's script/after_script~n~ts~nis not GitHub's run: steps~n~ts",
                             [lists:join("\n--\n", Script), lists:join("\n--\n", [C || {_, C} <- Steps])])}],
    case [Why || {false, Why} <- Checks] of
        [] ->
            io:put_chars([[["ENV", 0, K, 0, V, 0] || {K, V} <- Env],
                          [["STEP", 0, N, 0, C, 0] || {N, C} <- Steps]]);
        Whys ->
            io:format(standard_error, "ci_steps: ~ts: ~ts~n", [Guide, lists:join("; ", Whys)]),
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: ci_steps.escript guides/ci.md~n", []),
    halt(2).

yaml_block(Text, Heading) ->
    [_, After] = binary:split(Text, Heading),
    [_, Block0] = binary:split(After, <<"```yaml\n">>),
    [Block | _] = binary:split(Block0, <<"\n```">>),
    Block.

lines(Block) -> [binary_to_list(L) || L <- binary:split(Block, <<"\n">>, [global])].

indent(L) -> length(L) - length(string:trim(L, leading, " ")).

%% `Key:' followed by more indented `NAME: value' lines (quotes and comments dropped)
mapping(Lines, Key) ->
    case lists:dropwhile(fun(L) -> L =/= Key end, Lines) of
        [_ | Rest] ->
            [kv(L) || L <- lists:takewhile(fun(L) -> L =/= "" andalso indent(L) > indent(Key) end, Rest)];
        [] -> []
    end.

kv(L) ->
    [K, V] = string:split(string:trim(L), ":"),
    {K, unquote(string:trim(hd(string:split(V, " #"))))}.

unquote([$" | R]) -> lists:droplast(R);
unquote(V) -> V.

%% `Key:' followed by `- command' items, or `- |' with a more indented block
list(Lines, Key) ->
    case lists:dropwhile(fun(L) -> L =/= Key end, Lines) of
        [_ | Rest] -> items(lists:takewhile(fun(L) -> L =/= "" andalso indent(L) > indent(Key) end, Rest));
        [] -> []
    end.

items([]) -> [];
items([L | Rest]) ->
    case string:trim(L) of
        "- |" ->
            {Block, More} = block(Rest, indent(L)),
            [Block | items(More)];
        "- " ++ Cmd -> [Cmd | items(Rest)]
    end.

%% the lines more indented than `Indent', dedented by the first one's indentation
block(Lines, Indent) ->
    {Body, More} = lists:splitwith(fun(L) -> L =/= "" andalso indent(L) > Indent end, Lines),
    By = indent(hd(Body)),
    {string:join([lists:nthtail(By, L) || L <- Body], "\n"), More}.

%% the steps with `run:', named by their `name:'
github_steps(Lines) ->
    steps(lists:dropwhile(fun(L) -> L =/= "    steps:" end, Lines), undefined).

steps([], _) -> [];
steps([L | Rest], Name) ->
    T = string:trim(L),
    case T of
        "- name: " ++ N -> steps(Rest, N);
        "- " ++ _ -> steps(Rest, undefined);
        "name: " ++ N -> steps(Rest, N);
        "run: |" ->
            {Block, More} = block(Rest, indent(L)),
            [{Name, Block} | steps(More, Name)];
        "run: " ++ Cmd -> [{Name, Cmd} | steps(Rest, Name)];
        _ -> steps(Rest, Name)
    end.

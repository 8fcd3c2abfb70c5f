# mix format: the Elixir face's sources (line length as the Erlang code's)
[
  inputs: [
    "mix.exs",
    ".formatter.exs",
    "lib/**/*.{ex,exs}",
    "test/elixir/**/*.{ex,exs}",
    "scenarios/elixir/*.exs"
  ],
  line_length: 110
]

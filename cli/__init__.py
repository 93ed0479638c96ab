"""The `duban` command line: the office's tool for plans, people and (later) supervision."""

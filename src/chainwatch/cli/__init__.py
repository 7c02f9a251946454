"""Command-line adapter: parse options, call one service function, shape the output."""

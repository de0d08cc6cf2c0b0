"""Hostile inputs and careless operators: configuration, CLI, sinks, topics (issue 12)."""

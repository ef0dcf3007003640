"""Coverage-guided fuzzing (atheris) of every parser that reads client bytes.

Run ``python -m fuzz --help``; see docs/reliability.md.
"""

# Baseline: the interpreter alone, no framework.

"""Plumbing every layer may import: the one error type, input validators, the atomic writer,
output-path checks. Imports nothing from the layers."""

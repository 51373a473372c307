"""Test support: a local AWS emulator that records every request it serves."""

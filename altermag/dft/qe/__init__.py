"""Quantum ESPRESSO: decks, pseudopotentials, runs, output parsing."""

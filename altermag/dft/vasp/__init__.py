"""VASP: decks (through pymatgen's input sets), runs, output parsing."""

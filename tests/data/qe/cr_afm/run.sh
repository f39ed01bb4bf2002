#!/usr/bin/env bash
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")}"
export OMP_NUM_THREADS=1
pw.x -in scf.in > scf.out
cp out/altermag.save/data-file-schema.xml scf-data-file-schema.xml
pw.x -in bands.in > bands.out

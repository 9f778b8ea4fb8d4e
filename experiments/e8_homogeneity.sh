#!/usr/bin/env bash
# E8: the protocol is declared in Sources/MeanField/Experiments/Catalog/E8.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E8 --full --out "${1:-runs/e8}" --parallel "${PARALLEL:-2}"

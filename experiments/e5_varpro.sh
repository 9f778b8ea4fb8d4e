#!/usr/bin/env bash
# E5: the protocol is declared in Sources/MeanField/Experiments/Catalog/E5.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E5 --full --out "${1:-runs/e5}" --parallel "${PARALLEL:-2}"

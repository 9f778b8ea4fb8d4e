#!/usr/bin/env bash
# E4: the protocol is declared in Sources/MeanField/Experiments/Catalog/E4.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E4 --full --out "${1:-runs/e4}" --parallel "${PARALLEL:-2}"

#!/usr/bin/env bash
# E2: the protocol is declared in Sources/MeanField/Experiments/Catalog/E2.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E2 --full --out "${1:-runs/e2}" --parallel "${PARALLEL:-2}"

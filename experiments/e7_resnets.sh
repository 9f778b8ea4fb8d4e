#!/usr/bin/env bash
# E7: the protocol is declared in Sources/MeanField/Experiments/Catalog/E7.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E7 --full --out "${1:-runs/e7}" --parallel "${PARALLEL:-2}"

#!/usr/bin/env bash
# E1: the protocol is declared in Sources/MeanField/Experiments/Catalog/E1.swift (meanfield experiment list).
exec "${MEANFIELD:-.build/release/meanfield}" experiment run E1 --full --out "${1:-runs/e1}" --parallel "${PARALLEL:-2}"

#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing seqgrad need, plus any named as
# arguments, only those missing (apt-get as root, else through sudo). Used by setup.sh,
# sanitize.sh and fuzz.sh (which adds clang and its runtimes).
# Usage: ./scripts/install_packages.sh [EXTRA_PACKAGE...]
set -euo pipefail

packages=(g++ cmake make libboost-program-options-dev libhdf5-dev libopenblas-openmp-dev
          nlohmann-json3-dev libgtest-dev libopenmpi-dev openmpi-bin libsentencepiece-dev
          libpng-dev chromium python3 "$@")
# chromium: the test that loads report.html in a real browser; python3: the test of
# tools/locale_corpus.py
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
